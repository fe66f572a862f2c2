/**
 * Real fixtures for the SBOM tests, made with the real tools: a Node project installed from the
 * npm registry (cached, ≥ 300 packages), Go binaries built with Debian's golang-go, rpm databases
 * made by rpm/rpmbuild, jars made by `jar`/`zip`. Cached ones live under the shared test cache.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCachedOnce, run, TEST_CACHE } from './images.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sigil-${prefix}-`));
}

/** express, webpack, eslint, mocha and jest from the npm registry with their lockfile (~460 packages), cached. */
export async function nodeProject(): Promise<string> {
  const dir = await buildCachedOnce(join(TEST_CACHE, 'sbom-nodeproj'), async (tmp) => {
    writeFileSync(join(tmp, 'package.json'), JSON.stringify({ name: 'sigil-sbom-fixture', version: '1.0.0', private: true }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', 'express@4', 'webpack@5', 'eslint@8', 'mocha@10', 'jest@29'], { cwd: tmp, timeoutMs: 300_000 });
  });
  return dir;
}

/**
 * A Go program with two versioned module dependencies (vendored, since this machine has no module
 * proxy) and one replaced by a local directory, built with `go build`.
 */
export function buildGoBinary(dir: string): string {
  const w = (p: string, text: string) => {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  };
  w('go.mod', 'module example.com/sigilapp\n\ngo 1.19\n\nrequire (\n\texample.com/greet v1.2.3\n\texample.org/util v0.4.0\n\texample.net/local v0.0.0-00010101000000-000000000000\n)\n\nreplace example.net/local => ./local\n');
  w('main.go', 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n\t"example.net/local"\n\t"example.org/util/strs"\n)\n\nfunc main() { fmt.Println(strs.Upper(greet.Hello()), local.N) }\n');
  w('vendor/example.com/greet/greet.go', 'package greet\n\nfunc Hello() string { return "hello" }\n');
  w('vendor/example.org/util/strs/strs.go', 'package strs\n\nimport "strings"\n\nfunc Upper(s string) string { return strings.ToUpper(s) }\n');
  w('local/go.mod', 'module example.net/local\n\ngo 1.19\n');
  w('local/local.go', 'package local\n\nconst N = 42\n');
  w('vendor/example.net/local/local.go', 'package local\n\nconst N = 42\n');
  w(
    'vendor/modules.txt',
    '# example.com/greet v1.2.3\n## explicit\nexample.com/greet\n# example.org/util v0.4.0\n## explicit\nexample.org/util/strs\n# example.net/local v0.0.0-00010101000000-000000000000 => ./local\n## explicit; go 1.19\nexample.net/local\n# example.net/local => ./local\n',
  );
  execFileSync('go', ['build', '-mod=vendor', '-o', 'sigilapp', '.'], {
    cwd: dir,
    env: { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=vendor', GOTOOLCHAIN: 'local', HOME: process.env.HOME ?? tmpdir() },
    stdio: 'pipe',
  });
  return join(dir, 'sigilapp');
}

/** A real Go executable (the toolchain's own gofmt), for tests that need any Go binary quickly. */
export function goToolBinary(): string {
  const root = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } }).trim();
  return join(root, 'bin', 'gofmt');
}

/** `go version -m` modules: the main module and each dependency as `path version`. */
export function goVersionModules(binary: string): Set<string> {
  const out = execFileSync('go', ['version', '-m', binary], { encoding: 'utf8' });
  const mods = new Set<string>();
  for (const line of out.split('\n')) {
    const f = line.trim().split('\t');
    if (f[0] === 'mod' || f[0] === 'dep') mods.add(`${f[1]} ${f[2]}`);
  }
  return mods;
}

/** An rpm database (sqlite backend) in `root`/var/lib/rpm with two packages built by rpmbuild. */
export function buildRpmRoot(work: string): string {
  const root = join(work, 'root');
  const top = join(work, 'top');
  mkdirSync(join(top, 'SPECS'), { recursive: true });
  const spec = (name: string, extra: string) =>
    [
      `Name: ${name}`,
      'Version: 1.2.3',
      'Release: 4',
      extra,
      'Summary: A test package for sigil',
      'URL: https://example.com/sigil',
      'Vendor: Sigil Test Vendor',
      'BuildArch: noarch',
      '',
      '%description',
      'Test package.',
      '',
      '%install',
      `mkdir -p %{buildroot}/usr/share/${name}`,
      `echo hi > %{buildroot}/usr/share/${name}/hi.txt`,
      '',
      '%files',
      `/usr/share/${name}/hi.txt`,
      '',
    ].join('\n');
  writeFileSync(join(top, 'SPECS', 'hello.spec'), spec('sigil-hello', 'Epoch: 2\nLicense: MIT and (GPLv2+ or BSD)\nRequires: sigil-base\nProvides: hello-capability'));
  writeFileSync(join(top, 'SPECS', 'base.spec'), spec('sigil-base', 'License: Apache-2.0'));
  for (const s of ['hello.spec', 'base.spec']) execFileSync('rpmbuild', ['--define', `_topdir ${top}`, '-bb', join(top, 'SPECS', s)], { stdio: 'pipe' });
  const db = ['--root', root, '--dbpath', '/var/lib/rpm'];
  execFileSync('rpm', [...db, '--initdb'], { stdio: 'pipe' });
  const rpms = ['sigil-base-1.2.3-4.noarch.rpm', 'sigil-hello-1.2.3-4.noarch.rpm'].map((f) => join(top, 'RPMS', 'noarch', f));
  execFileSync('rpm', [...db, '-i', '--nodeps', '--noscripts', '--justdb', ...rpms], { stdio: 'pipe' });
  return root;
}

export function rpmQuery(root: string): Set<string> {
  const out = execFileSync('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-qa', '--qf', '%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE}\\n'], { encoding: 'utf8' });
  return new Set(
    out
      .trim()
      .split('\n')
      .map((l) => l.replace(' (none):', ' ')),
  );
}
