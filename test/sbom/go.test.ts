/**
 * Ground truth: a Go binary built with Debian's golang-go. Its modules in the SBOM must equal
 * `go version -m` (main module and every dependency), whether the binary is scanned directly, in a
 * directory (ELF section table, random access) or inside a tar layer (streamed, no seeking).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGoBinary, goVersionModules, tempDir } from '../helpers/sbom-fixtures.js';
import { runSigil } from '../helpers/cli-run.js';
import { decodeBuildInfo, goBinaryCataloger, parseModInfo } from '../../src/sbom/catalogers/go-binary.js';
import { readFileSync } from 'node:fs';
import { parseGoMod, parseGoSum } from '../../src/sbom/catalogers/go-mod.js';

const work = tempDir('sbom-go');
let binary: string;
let truth: Set<string>;

before(() => {
  binary = buildGoBinary(join(work, 'src'));
  truth = goVersionModules(binary);
  assert.ok(truth.size >= 4);
});
after(() => rmSync(work, { recursive: true, force: true }));

interface Cdx {
  components: { name: string; version?: string; purl?: string; properties?: { name: string; value: string }[] }[];
  metadata: { component?: { name: string } };
}

/** Modules as `go version -m` prints them: the original path and version, before replacement. */
function modules(doc: Cdx): Set<string> {
  const out = new Set<string>();
  for (const c of doc.components) {
    if (!c.purl?.startsWith('pkg:golang/') || c.name === 'stdlib') continue;
    out.add(`${c.name} ${c.version}`);
  }
  return out;
}

async function scan(source: string): Promise<Cdx> {
  const r = await runSigil(['sbom', source, '--format', 'cyclonedx-json', '--catalogers', 'go-binary'], { SOURCE_DATE_EPOCH: '0' });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Cdx;
}

test('go binary scanned directly: modules equal go version -m', async () => {
  const doc = await scan(binary);
  assert.deepEqual([...modules(doc)].sort(), [...truth].sort());
  const std = doc.components.find((c) => c.name === 'stdlib');
  assert.match(std?.version ?? '', /^go1\.\d+/);
  const local = doc.components.find((c) => c.name === 'example.net/local');
  assert.equal(local?.properties?.find((p) => p.name === 'sigil:go-replaced-by')?.value, './local');
  assert.equal(doc.metadata.component?.name, 'sigilapp');
});

test('go binary inside a directory and inside a tar layer (streamed): same modules', async () => {
  const dirDoc = await scan(join(work, 'src'));
  assert.deepEqual([...modules(dirDoc)].sort(), [...truth].sort());
  const tar = join(work, 'layer.tar.gz');
  execFileSync('tar', ['-czf', tar, '-C', join(work, 'src'), 'sigilapp']);
  const tarDoc = await scan(tar);
  assert.deepEqual([...modules(tarDoc)].sort(), [...truth].sort());
});

test('buildinfo decoding rejects truncated data and parses mod info lines', () => {
  const info = parseModInfo('go1.21.0', 'path\tx/cmd\nmod\tx\t(devel)\t\ndep\ta/b\tv1.0.0\th1:abc=\n=>\tc/d\tv2.0.0\th1:def=\nbuild\tGOOS=linux\n');
  assert.equal(info.path, 'x/cmd');
  assert.deepEqual(info.deps[0], { path: 'a/b', version: 'v1.0.0', sum: 'h1:abc=', replace: { path: 'c/d', version: 'v2.0.0', sum: 'h1:def=' } });
  assert.equal(info.settings.GOOS, 'linux');
  const magic = Buffer.from('\xff Go buildinf:', 'latin1');
  const header = Buffer.concat([magic, Buffer.from([8, 2]), Buffer.alloc(16)]);
  assert.equal(decodeBuildInfo(Buffer.concat([header, Buffer.from([5])])), undefined, 'truncated varint string');
  assert.equal(decodeBuildInfo(Buffer.concat([magic, Buffer.from([8, 0]), Buffer.alloc(16)])), 'old-format');
  assert.equal(decodeBuildInfo(Buffer.from('not go')), undefined);
  const ok = decodeBuildInfo(Buffer.concat([header, Buffer.from([8]), Buffer.from('go1.22.0'), Buffer.from([0])]));
  assert.ok(ok && ok !== 'old-format' && ok.goVersion === 'go1.22.0');
});

test('go.mod and go.sum of a source tree', async () => {
  const dir = join(work, 'modsrc');
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(
    join(dir, 'go.mod'),
    'module example.com/m\n\ngo 1.21\n\nrequire (\n\tgithub.com/pkg/errors v0.9.1\n\tgolang.org/x/text v0.3.7 // indirect\n)\n\nrequire github.com/old/x v1.0.0\n\nreplace github.com/old/x v1.0.0 => github.com/new/x v1.1.0\n',
  );
  writeFileSync(join(dir, 'go.sum'), 'github.com/pkg/errors v0.9.1 h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=\ngithub.com/pkg/errors v0.9.1/go.mod h1:bwawxfHBFNV+L2hUp1rHADufV3IMtnDRdf1r5NINEl0=\n');
  const mod = parseGoMod('module a\nrequire (\n  b v1 // indirect\n)\nreplace b => ../b\n');
  assert.deepEqual(mod.requires, [{ path: 'b', version: 'v1', indirect: true }]);
  assert.deepEqual(mod.replaces, [{ from: 'b', to: '../b' }]);
  assert.equal(parseGoSum('a v1 h1:x=\na v1/go.mod h1:y=\n').size, 1);
  const r = await runSigil(['sbom', dir, '--format', 'cyclonedx-json', '--catalogers', 'go-mod'], { SOURCE_DATE_EPOCH: '0' });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Cdx;
  const got = doc.components.map((c) => `${c.purl}`).sort();
  assert.deepEqual(got, ['pkg:golang/example.com/m', 'pkg:golang/github.com/new/x@v1.1.0', 'pkg:golang/github.com/pkg/errors@v0.9.1', 'pkg:golang/golang.org/x/text@v0.3.7']);
  const errs = doc.components.find((c) => c.name === 'github.com/pkg/errors');
  assert.equal(errs?.properties?.find((p) => p.name === 'sigil:go-sum')?.value, 'h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=');
});

test('streamed scan finds the build info whatever the chunk boundaries', () => {
  const bin = readFileSync(binary);
  for (const size of [1, 7, 13, 14, 15, 16, 17, 4096, 65536, bin.length]) {
    const c = goBinaryCataloger.stream!({ path: 'x', size: bin.length, mode: 0o755 }, { warn: () => {} });
    for (let i = 0; i < bin.length; i += size) if (!c.write(bin.subarray(i, i + size))) break;
    const info = c.end();
    assert.equal(info?.main?.path, 'example.com/sigilapp', `chunk size ${size}`);
    assert.equal(info?.deps.length, 3);
  }
  // Not ELF: rejected on the first chunk.
  const c = goBinaryCataloger.stream!({ path: 'x', size: 10, mode: 0o755 }, { warn: () => {} });
  assert.equal(c.write(Buffer.from('#!/bin/sh\n')), false);
  assert.equal(c.end(), undefined);
});
