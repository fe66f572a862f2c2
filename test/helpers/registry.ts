/**
 * Starts Debian's `docker-registry` (distribution 2.8) on a free 127.0.0.1 port in a temp dir, as
 * a real peer for the OCI tests (recipe: ../shared/peers/README.md §1). Optionally with htpasswd
 * basic auth (bcrypt via apache2-utils' htpasswd, which distribution requires). Ready in ~30 ms.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import https from 'node:https';

export interface TestRegistry {
  /** `127.0.0.1:<port>` — the registry part of an image reference. */
  host: string;
  port: number;
  dir: string;
  auth?: { username: string; password: string };
  /** A Docker config.json holding `auths` for this registry (only with auth). */
  dockerConfigPath?: string;
  /** The registry's stderr/stdout so far (for failing tests). */
  log(): string;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  htpasswd?: { username: string; password: string };
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (made with openssl). */
  tls?: boolean;
}

/** Asks the kernel for a free port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function getStatus(port: number, tls: boolean): Promise<number> {
  return new Promise((resolve) => {
    const get = tls ? https.get : http.get;
    const req = get({ host: '127.0.0.1', port, path: '/v2/', agent: false, timeout: 500, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}

function config(dir: string, port: number, htpasswdPath?: string, tls?: { cert: string; key: string }): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  cache:',
    '    blobdescriptor: inmemory',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: sigil-test-secret',
    ...(tls ? ['  tls:', `    certificate: ${tls.cert}`, `    key: ${tls.key}`] : []),
    ...(htpasswdPath ? ['auth:', '  htpasswd:', '    realm: sigil-test-registry', `    path: ${htpasswdPath}`] : []),
    '',
  ].join('\n');
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-registry-'));
  let htpasswdPath: string | undefined;
  let dockerConfigPath: string | undefined;
  if (opts.htpasswd) {
    htpasswdPath = join(dir, 'htpasswd');
    const line = execFileSync('htpasswd', ['-Bbn', opts.htpasswd.username, opts.htpasswd.password], { encoding: 'utf8' });
    writeFileSync(htpasswdPath, line.trim() + '\n');
  }
  let tls: { cert: string; key: string } | undefined;
  if (opts.tls) {
    tls = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', tls.key, '-out', tls.cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  }
  // The port may be taken between freePort() and the registry's bind; try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const cfg = join(dir, `config-${port}.yml`);
    writeFileSync(cfg, config(dir, port, htpasswdPath, tls));
    let output = '';
    const child: ChildProcess = spawn('docker-registry', ['serve', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    let exited = false;
    const exitPromise = new Promise<void>((resolve) => child.on('exit', () => ((exited = true), resolve())));
    child.on('error', (e) => {
      output += String(e);
      exited = true;
    });
    const deadline = Date.now() + 15_000;
    let ready = false;
    while (!exited && Date.now() < deadline) {
      const st = await getStatus(port, !!tls);
      if (st === 200 || st === 401) {
        ready = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!ready) {
      if (!exited && child.pid) process.kill(child.pid, 'SIGKILL');
      await exitPromise;
      if (/address already in use/i.test(output)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start on 127.0.0.1:${port}:\n${output}`);
    }
    const host = `127.0.0.1:${port}`;
    if (opts.htpasswd) {
      dockerConfigPath = join(dir, 'docker-config.json');
      const auth = Buffer.from(`${opts.htpasswd.username}:${opts.htpasswd.password}`).toString('base64');
      writeFileSync(dockerConfigPath, JSON.stringify({ auths: { [host]: { auth } } }));
    }
    return {
      host,
      port,
      dir,
      ...(opts.htpasswd ? { auth: { ...opts.htpasswd } } : {}),
      ...(dockerConfigPath ? { dockerConfigPath } : {}),
      log: () => output,
      async stop() {
        if (!exited && child.pid) process.kill(child.pid, 'SIGTERM');
        await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 3000))]);
        if (!exited && child.pid) process.kill(child.pid, 'SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('docker-registry: no free port after 5 attempts');
}
