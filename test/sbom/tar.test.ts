/**
 * The streaming tar reader against archives written by GNU tar in every format it has (gnu, pax,
 * ustar, v7) and against hand-made malformed headers.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { join } from 'node:path';
import { readTar, indexTarFile, type TarEntry } from '../../src/sbom/sources/tar.js';
import { isSigilError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/sbom-fixtures.js';
import { craftTar, paxEntry } from '../helpers/tar-craft.js';

const work = tempDir('sbom-tar');
after(() => rmSync(work, { recursive: true, force: true }));

async function* chunks(buf: Buffer, size = 700): AsyncIterable<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function entries(buf: Buffer, chunkSize?: number): Promise<{ e: TarEntry; body: string }[]> {
  const out: { e: TarEntry; body: string }[] = [];
  await readTar(
    chunks(buf, chunkSize),
    (e) => {
      const parts: Buffer[] = [];
      const rec = { e, body: '' };
      out.push(rec);
      return {
        write(c) {
          parts.push(Buffer.from(c));
          return true;
        },
        end() {
          rec.body = Buffer.concat(parts).toString();
        },
      };
    },
    'test.tar',
  );
  return out;
}

const LONG = `${'very-long-directory-name/'.repeat(6)}file-with-a-long-name.txt`;

for (const format of ['gnu', 'pax', 'ustar', 'v7']) {
  test(`GNU tar --format=${format}: names, bodies, symlinks, hard links`, async () => {
    const src = join(work, `src-${format}`);
    const name = format === 'v7' || format === 'ustar' ? 'short/dir/file.txt' : LONG;
    mkdirSync(join(src, name, '..'), { recursive: true });
    writeFileSync(join(src, name), 'hello world\n'.repeat(100));
    symlinkSync('target/of/link', join(src, 'link'));
    linkSync(join(src, name), join(src, 'hard'));
    const tar = join(work, `${format}.tar`);
    execFileSync('tar', [`--format=${format}`, '-cf', tar, '-C', src, '.']);
    const buf = readFileSync(tar);
    for (const size of [1, 511, 512, 513, 100_000]) {
      const got = await entries(buf, size);
      const file = got.find((x) => x.e.name.replace(/^\.\//, '') === name);
      assert.ok(file, `${format}/${size}: ${got.map((x) => x.e.name).join(',')}`);
      assert.equal(file.e.kind, 'file');
      assert.equal(file.body, 'hello world\n'.repeat(100));
      const link = got.find((x) => x.e.name.replace(/^\.\//, '') === 'link')!;
      assert.equal(link.e.kind, 'symlink');
      assert.equal(link.e.linkTarget, 'target/of/link');
      const hard = got.find((x) => /hard$/.test(x.e.name) || /hard$/.test(x.e.linkTarget ?? ''));
      assert.ok(hard && hard.e.kind === 'hardlink');
    }
    // Seeking index agrees with the stream.
    const fd = openSync(tar, 'r');
    try {
      const idx = indexTarFile(fd, statSync(tar).size, tar);
      assert.deepEqual(
        idx.map((x) => x.entry.name).sort(),
        (await entries(buf)).map((x) => x.e.name).sort(),
      );
    } finally {
      closeSync(fd);
    }
  });
}

test('pax path and size records override the header; base-256 sizes', async () => {
  const body = 'x'.repeat(10);
  const tar = craftTar([paxEntry({ path: 'from/pax/name', size: '10' }), { name: 'header-name', body, sizeField: Buffer.from('00000000000\0') }]);
  const got = await entries(tar);
  assert.equal(got[0]!.e.name, 'from/pax/name');
  assert.equal(got[0]!.body, body);
  const b256 = Buffer.alloc(12);
  b256[0] = 0x80;
  b256[11] = 5;
  const got2 = await entries(craftTar([{ name: 'b', body: 'abcde', sizeField: b256 }]));
  assert.equal(got2[0]!.body, 'abcde');
});

async function rejects(buf: Buffer, re: RegExp): Promise<void> {
  await assert.rejects(
    () => entries(buf),
    (e: unknown) => isSigilError(e) && e.code === 'ARCHIVE_MALFORMED' && re.test(e.message) && e.message.startsWith('test.tar:'),
  );
}

test('malformed archives: checksum, truncation, absurd sizes, bad pax records, empty input', async () => {
  await rejects(craftTar([{ name: 'a', body: 'x', badChecksum: true }]), /header checksum mismatch at offset 0/);
  const ok = craftTar([{ name: 'a', body: 'x'.repeat(2000) }]);
  await rejects(ok.subarray(0, 1000), /truncated inside entry "a"/);
  await rejects(ok.subarray(0, 300), /truncated inside a header/);
  const huge = Buffer.alloc(12, 0);
  huge[0] = 0x80;
  huge[4] = 0x7f; // ~2^60
  await rejects(craftTar([{ name: 'big', sizeField: huge }]), /absurd entry size/);
  await rejects(craftTar([{ name: 'neg', sizeField: Buffer.from('-0000000001\0') }]), /absurd entry size/);
  await rejects(craftTar([{ name: 'PaxHeader', type: 'x', body: '99 path=x\n' }, { name: 'a' }]), /malformed pax record/);
  await rejects(craftTar([paxEntry({ size: '1e30' }), { name: 'a' }]), /absurd pax size/);
  await rejects(Buffer.alloc(0), /empty input/);
  await rejects(Buffer.from('this is not a tar archive'.repeat(40)), /not a tar archive/);
  const bigName = Buffer.alloc(12);
  bigName.write((2 << 20).toString(8).padStart(11, '0') + '\0');
  await rejects(craftTar([{ name: '././@LongLink', type: 'L', sizeField: bigName }]), /GNU long name of \d+ bytes at offset 0 is too large/);
});
