/**
 * `sigil sbom IMAGE --attach IMAGE --key K`: the SBOM of an image in a registry on 127.0.0.1 is
 * attached to it as an OCI referrer and attested with the key, through the image commands
 * (src/oci attachSbom); `sigil tree` then lists it and `verify-attestation --type spdxjson` accepts it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushLayout, run } from '../helpers/images.js';
import { runSigil } from '../helpers/cli-run.js';
import { tempDir } from '../helpers/sbom-fixtures.js';

const work = tempDir('sbom-attach');
const env = { SIGIL_PASSWORD: 'pw', HOME: '/nonexistent', SOURCE_DATE_EPOCH: '0' };
let reg: TestRegistry;
let ref: string;

before(async () => {
  reg = await startRegistry();
  const src = join(work, 'rootfs');
  mkdirSync(join(src, 'var/lib/dpkg'), { recursive: true });
  writeFileSync(join(src, 'var/lib/dpkg/status'), 'Package: tiny\nStatus: install ok installed\nVersion: 0.1\nArchitecture: amd64\n');
  await run('tar', ['-cf', join(work, 'layer.tar'), '-C', src, '.']);
  const layout = join(work, 'layout');
  await run('umoci', ['init', '--layout', layout]);
  await run('umoci', ['new', '--image', `${layout}:v1`]);
  await run('umoci', ['raw', 'add-layer', '--image', `${layout}:v1`, join(work, 'layer.tar')]);
  ref = `${reg.host}/sbom/app:v1`;
  await pushLayout({ layout, tag: 'v1' }, ref);
  const g = await runSigil(['generate-key-pair', '--output-key-prefix', join(work, 'cosign')], env);
  assert.equal(g.code, 0, g.stderr);
});
after(async () => {
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('sbom --attach --key: the SBOM becomes an attested referrer of the image', async () => {
  const out = join(work, 'app.spdx.json');
  const r = await runSigil(['sbom', `registry:${ref}`, '--output-file', out, '--attach', ref, '--key', join(work, 'cosign.key'), '--output', 'json'], env);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { byKind: Record<string, number>; attached: { reference: string; referrer: string; attestation?: string } };
  assert.equal(summary.byKind.deb, 1);
  assert.match(summary.attached.reference, /\/sbom\/app@sha256:[0-9a-f]{64}$/);
  assert.match(summary.attached.referrer, /^sha256:[0-9a-f]{64}$/);
  assert.match(summary.attached.attestation ?? '', /^sha256:[0-9a-f]{64}$/);
  const tree = await runSigil(['tree', '--output', 'json', ref], env);
  assert.equal(tree.code, 0, tree.stderr);
  const t = JSON.parse(tree.stdout) as { referrers: { manifests: { kind: string; digest: string }[] } };
  assert.ok(t.referrers.manifests.some((m) => m.kind === 'sbom' && m.digest === summary.attached.referrer));
  assert.ok(t.referrers.manifests.some((m) => m.kind === 'attestation'));
  const v = await runSigil(['verify-attestation', '--key', join(work, 'cosign.pub'), '--insecure-ignore-tlog', '--type', 'spdxjson', ref], env);
  assert.equal(v.code, 0, v.stderr);
  const statement = JSON.parse(v.stdout.trim().split('\n')[0]!) as { predicateType?: string; predicate?: { spdxVersion?: string } };
  assert.equal(statement.predicateType, 'https://spdx.dev/Document');
  assert.equal(statement.predicate?.spdxVersion, 'SPDX-2.3');
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).spdxVersion, 'SPDX-2.3');
});

test('sbom --attach with a malformed reference fails before scanning', async () => {
  const r = await runSigil(['sbom', work, '--attach', 'Not A Reference'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /REFERENCE_MALFORMED/);
});
