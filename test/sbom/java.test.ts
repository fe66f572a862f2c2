/**
 * Java archives made with the JDK's `jar` and Info-ZIP's `zip`: Maven coordinates from
 * pom.properties, manifest-only jars, shaded jars with several artifacts, a war with a nested jar
 * (deflated and stored), a ZIP64 archive, in a directory and streamed from a tarball.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSigil } from '../helpers/cli-run.js';
import { tempDir } from '../helpers/sbom-fixtures.js';
import { parseJarManifest } from '../../src/sbom/catalogers/java.js';
import { readCentralDirectory, readEntry } from '../../src/sbom/catalogers/zip.js';
import { bufferAccess } from '../../src/sbom/catalogers/cataloger.js';

const work = tempDir('sbom-java');
const out = join(work, 'out');

function tree(dir: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

function jar(name: string, files: Record<string, string>, manifest: string, opts: string[] = []): string {
  const dir = join(work, `src-${name}`);
  tree(dir, files);
  writeFileSync(join(work, `${name}.mf`), manifest);
  execFileSync('jar', ['--create', ...opts, '--file', join(out, name), '--manifest', join(work, `${name}.mf`), '-C', dir, '.'], { stdio: 'pipe' });
  return join(out, name);
}

before(() => {
  mkdirSync(out, { recursive: true });
  const lib = jar(
    'commons-demo-1.4.2.jar',
    { 'META-INF/maven/org.example/commons-demo/pom.properties': '#Generated\nversion=1.4.2\ngroupId=org.example\nartifactId=commons-demo\n', 'org/example/A.class': 'x' },
    'Manifest-Version: 1.0\nBundle-License: Apache-2.0\nImplementation-Title: commons demo\n',
  );
  jar(
    'app-2.0.jar',
    {
      'META-INF/maven/com.acme/app/pom.properties': 'groupId=com.acme\nartifactId=app\nversion=2.0\n',
      'META-INF/maven/com.google.guava/guava/pom.properties': 'groupId=com.google.guava\nartifactId=guava\nversion=31.1-jre\n',
    },
    'Manifest-Version: 1.0\n',
  );
  jar('plain.jar', { 'x.txt': 'plain' }, 'Manifest-Version: 1.0\nImplementation-Title: Plain\nImplementation-Version: 0.9\nImplementation-Vendor-Id: org.plain\nImplementation-Vendor: Plain Inc\n');
  // A war with the library nested twice: once deflated, once stored (jar --no-compress).
  const webSrc = join(work, 'src-web');
  tree(webSrc, { 'index.html': '<html/>' });
  mkdirSync(join(webSrc, 'WEB-INF', 'lib'), { recursive: true });
  execFileSync('cp', [lib, join(webSrc, 'WEB-INF', 'lib')]);
  writeFileSync(join(work, 'web.mf'), 'Manifest-Version: 1.0\nImplementation-Title: web\nImplementation-Version: 3.1\n');
  execFileSync('jar', ['--create', '--no-compress', '--file', join(out, 'web.war'), '--manifest', join(work, 'web.mf'), '-C', webSrc, '.'], { stdio: 'pipe' });
  // ZIP64 end records, made by Info-ZIP (-fz forces them).
  const z = join(work, 'src-z64');
  tree(z, { 'META-INF/maven/org.z/z64/pom.properties': 'groupId=org.z\nartifactId=z64\nversion=6.4\n' });
  execFileSync('zip', ['-q', '-r', '-fz', join(out, 'z64-6.4.jar'), '.'], { cwd: z });
});
after(() => rmSync(work, { recursive: true, force: true }));

interface Cdx {
  components: { name: string; version?: string; purl?: string; hashes?: { alg: string; content: string }[]; licenses?: unknown[]; evidence?: { occurrences: { location: string }[] } }[];
  dependencies: { ref: string; dependsOn?: string[] }[];
}

const EXPECTED = [
  'pkg:maven/com.acme/app@2.0',
  'pkg:maven/com.google.guava/guava@31.1-jre',
  'pkg:maven/org.example/commons-demo@1.4.2',
  'pkg:maven/org.plain/Plain@0.9',
  'pkg:maven/org.z/z64@6.4',
];

async function scan(source: string): Promise<Cdx> {
  const r = await runSigil(['sbom', source, '--format', 'cyclonedx-json', '--catalogers', 'java'], { SOURCE_DATE_EPOCH: '0' });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Cdx;
}

test('java: pom.properties, manifests, shaded and nested jars, ZIP64', async () => {
  const doc = await scan(out);
  const purls = doc.components.map((c) => c.purl).filter((p): p is string => !!p).sort();
  assert.deepEqual(purls, EXPECTED);
  const web = doc.components.find((c) => c.name === 'web');
  assert.equal(web?.version, '3.1');
  const lib = doc.components.find((c) => c.name === 'commons-demo')!;
  assert.deepEqual(lib.licenses, [{ license: { id: 'Apache-2.0' } }]);
  assert.deepEqual(lib.hashes?.map((h) => h.alg), ['SHA-1', 'SHA-256']);
  const locs = lib.evidence!.occurrences.map((o) => o.location).sort();
  assert.ok(locs.some((l) => l.endsWith('/commons-demo-1.4.2.jar')) && locs.some((l) => l.endsWith('web.war!/WEB-INF/lib/commons-demo-1.4.2.jar')), locs.join());
  // the shaded jar depends on what it embeds
  const app = doc.dependencies.find((d) => d.ref.includes('app-2.0'));
  assert.ok(app?.dependsOn?.some((x) => x.includes('guava')));
});

test('java: the same archives streamed from a tar.gz', async () => {
  const tgz = join(work, 'jars.tar.gz');
  execFileSync('tar', ['-czf', tgz, '-C', out, '.']);
  const doc = await scan(tgz);
  assert.deepEqual(doc.components.map((c) => c.purl).filter((p): p is string => !!p).sort(), EXPECTED);
});

test('zip reader: manifest continuation lines, malformed archives', () => {
  assert.deepEqual(parseJarManifest('Manifest-Version: 1.0\r\nClass-Path: a.jar\r\n  b.jar\r\n\r\nName: x\r\nFoo: bar\r\n'), { 'Manifest-Version': '1.0', 'Class-Path': 'a.jar b.jar' });
  assert.throws(() => readCentralDirectory(bufferAccess(Buffer.from('not a zip at all, not even close........'))), /end of central directory/);
  // EOCD claiming a central directory beyond the file
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(1000, 12);
  eocd.writeUInt32LE(0, 16);
  assert.throws(() => readCentralDirectory(bufferAccess(eocd)), /out of range/);
  // a deflate bomb is stopped at the cap
  const bomb = Buffer.alloc(4 << 20);
  const z = join(work, 'bomb.zip');
  writeFileSync(join(work, 'zeros'), bomb);
  execFileSync('zip', ['-q', '-j', z, join(work, 'zeros')]);
  const ra = bufferAccess(execFileSync('cat', [z]));
  const [e] = readCentralDirectory(ra);
  assert.throws(() => readEntry(ra, e!, 1 << 20), /over the 1048576-byte limit/);
});
