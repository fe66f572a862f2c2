/**
 * Ground truth: a real Debian bookworm rootfs (debootstrap --variant=minbase, cached). The deb
 * packages in the SBOM must equal what dpkg itself reports for that rootfs (`dpkg-query -W
 * --admindir`), name and version, with 100 % recall and precision, in both formats, and the
 * output must validate against the official schemas and be byte-identical across runs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianRootfs } from '../helpers/images.js';
import { runSigil } from '../helpers/cli-run.js';
import { cyclonedxValidator, spdxValidator } from '../helpers/sbom-schemas.js';

let rootfs: string;
let truth: Set<string>;
const work = mkdtempSync(join(tmpdir(), 'sigil-sbom-deb-'));

before(async () => {
  rootfs = await debianRootfs();
  const out = execFileSync('dpkg-query', ['--admindir', join(rootfs, 'var/lib/dpkg'), '-W', '-f', '${Package} ${Version} ${db:Status-Status}\\n'], {
    encoding: 'utf8',
  });
  truth = new Set(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .filter(([, , status]) => status !== 'config-files' && status !== 'not-installed')
      .map(([n, v]) => `${n} ${v}`),
  );
  assert.ok(truth.size >= 80, `dpkg-query found only ${truth.size} packages`);
});

process.on('exit', () => rmSync(work, { recursive: true, force: true }));

interface SpdxDoc {
  packages: { name: string; versionInfo?: string; SPDXID: string; externalRefs?: { referenceLocator: string }[]; licenseDeclared?: string; supplier?: string }[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

function debsOf(doc: SpdxDoc): Set<string> {
  return new Set(
    doc.packages.filter((p) => p.externalRefs?.some((r) => r.referenceLocator.startsWith('pkg:deb/'))).map((p) => `${p.name} ${p.versionInfo}`),
  );
}

function recallPrecision(found: Set<string>, truthSet: Set<string>): { recall: number; precision: number; missing: string[]; extra: string[] } {
  const missing = [...truthSet].filter((x) => !found.has(x));
  const extra = [...found].filter((x) => !truthSet.has(x));
  return { recall: (truthSet.size - missing.length) / truthSet.size, precision: (found.size - extra.length) / Math.max(1, found.size), missing, extra };
}

test('debian rootfs: SPDX deb packages equal dpkg-query -W (100% recall and precision)', async () => {
  const out = join(work, 'deb.spdx.json');
  const r = await runSigil(['sbom', rootfs, '--format', 'spdx-json', '--output-file', out], { SOURCE_DATE_EPOCH: '1700000000' });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(out, 'utf8')) as SpdxDoc;
  const m = recallPrecision(debsOf(doc), truth);
  assert.deepEqual({ missing: m.missing, extra: m.extra }, { missing: [], extra: [] });
  assert.equal(m.recall, 1);
  assert.equal(m.precision, 1);
  assert.deepEqual(spdxValidator()(doc), []);
  // Every deb has distro-qualified purl, a supplier, and most have a license from their copyright file.
  const debs = doc.packages.filter((p) => p.externalRefs?.[0]?.referenceLocator.startsWith('pkg:deb/debian/'));
  assert.ok(debs.every((p) => p.externalRefs![0]!.referenceLocator.includes('distro=debian-12')));
  assert.ok(debs.every((p) => p.supplier !== 'NOASSERTION'));
  const licensed = debs.filter((p) => p.licenseDeclared && p.licenseDeclared !== 'NOASSERTION').length;
  assert.ok(licensed >= debs.length - 3, `only ${licensed}/${debs.length} debs have a license`);
  // libc6 depends on libgcc-s1 (Depends: libgcc-s1), recorded as DEPENDS_ON.
  const id = (name: string) => doc.packages.find((p) => p.name === name)!.SPDXID;
  assert.ok(doc.relationships.some((x) => x.spdxElementId === id('libc6') && x.relationshipType === 'DEPENDS_ON' && x.relatedSpdxElement === id('libgcc-s1')));
  const os = doc.packages.find((p) => p.name === 'debian');
  assert.equal(os?.versionInfo, '12');
});

test('debian rootfs: CycloneDX 1.6 validates and lists the same packages', async () => {
  const r = await runSigil(['sbom', rootfs, '--format', 'cyclonedx-json'], { SOURCE_DATE_EPOCH: '1700000000' });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { components: { name: string; version?: string; purl?: string; type: string }[]; metadata: { timestamp: string } };
  assert.deepEqual(cyclonedxValidator()(doc), []);
  const found = new Set(doc.components.filter((c) => c.purl?.startsWith('pkg:deb/')).map((c) => `${c.name} ${c.version}`));
  const m = recallPrecision(found, truth);
  assert.deepEqual({ missing: m.missing, extra: m.extra }, { missing: [], extra: [] });
  assert.equal(doc.metadata.timestamp, '2023-11-14T22:13:20Z');
  assert.ok(doc.components.some((c) => c.type === 'operating-system' && c.name === 'debian'));
});

test('debian rootfs: output is byte-identical across runs (SOURCE_DATE_EPOCH)', async () => {
  const a = await runSigil(['sbom', rootfs], { SOURCE_DATE_EPOCH: '1700000000' });
  const b = await runSigil(['sbom', rootfs, '--timestamp', '2023-11-14T22:13:20Z']);
  assert.equal(a.code, 0);
  assert.equal(b.code, 0);
  assert.equal(a.stdout, b.stdout);
});

test('debian rootfs: --output json prints a summary', async () => {
  const out = join(work, 'deb2.spdx.json');
  const r = await runSigil(['sbom', rootfs, '--output-file', out, '--output', 'json'], { SOURCE_DATE_EPOCH: '1700000000' });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { packages: number; byKind: Record<string, number>; sha256: string };
  assert.equal(s.byKind.deb, truth.size);
  assert.match(s.sha256, /^[0-9a-f]{64}$/);
});
