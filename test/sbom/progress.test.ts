/** The progress display: only with --progress or a terminal on stderr, never on stdout. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProgressBar } from '../../src/cli/progress-bar.js';
import { runSigil } from '../helpers/cli-run.js';
import { tempDir } from '../helpers/sbom-fixtures.js';
import { craftTar } from '../helpers/tar-craft.js';

const ESC = String.fromCharCode(0x1b);

class Capture extends Writable {
  text = '';
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += c.toString();
    cb();
  }
}

test('ProgressBar draws a bar for byte totals, a counter for files, and clears its line', () => {
  const out = new Capture();
  const bar = new ProgressBar(out, 10);
  bar.expect(2 << 20, 'bytes');
  bar.phase('layer 1/2');
  bar.advance(1 << 20);
  bar.phase('layer 2/2');
  assert.match(out.text, /\[#####-----\] {2}50% 1\.0 MiB\/2\.0 MiB layer 2\/2/);
  bar.finish();
  assert.ok(out.text.endsWith('\r\x1b[2K'));
  const files = new Capture();
  const fb = new ProgressBar(files);
  fb.expect(0, 'files');
  fb.advance(3);
  fb.phase('dir');
  assert.match(files.text, /3 files dir/);
});

test('sbom --progress writes the bar to stderr only; without it (not a terminal) nothing is drawn', async () => {
  const dir = tempDir('sbom-progress');
  try {
    mkdirSync(join(dir, 'src'));
    const tar = join(dir, 'a.tar');
    writeFileSync(tar, craftTar([{ name: 'var/lib/dpkg/status', body: 'Package: p\nStatus: install ok installed\nVersion: 1\n' }]));
    const withBar = await runSigil(['sbom', tar, '--progress'], { SOURCE_DATE_EPOCH: '0' });
    assert.equal(withBar.code, 0, withBar.stderr);
    assert.match(withBar.stderr, new RegExp(`${ESC}\\[2K\\[[#-]{30}\\]\\s+\\d+% \\d+ KiB/2 KiB a\\.tar`));
    assert.ok(!withBar.stdout.includes(ESC));
    const without = await runSigil(['sbom', tar], { SOURCE_DATE_EPOCH: '0' });
    assert.ok(!without.stderr.includes(ESC));
    assert.equal(without.stdout, withBar.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
