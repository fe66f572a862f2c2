/**
 * sign-blob / attest-blob with --rekor-url against sigil's own transparency log over real HTTP
 * (Rekor v2 and v1 APIs), then verify-blob against a trusted root that holds the log's key: the
 * producer → log → bundle → verifier loop in one test.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../src/crypto/local-signer.js';
import { SqliteLogStore } from '../../src/services/storage/sqlite-log-store.js';
import { TransparencyLog } from '../../src/services/log/log.js';
import { serveLog } from '../../src/services/log/server.js';
import type { RunningServer } from '../../src/services/http.js';
import { runSigil, type CliResult } from '../helpers/cli-run.js';
import { addUnrelatedEntry, logOnlyTrustedRoot } from '../helpers/log-fixture.js';

let dir: string;
let log: TransparencyLog;
let server: RunningServer;
const logKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const env = { SIGIL_PASSWORD: 'pw' };

async function sigil(args: string[]): Promise<CliResult> {
  return runSigil(args, env, { cwd: dir });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-sign-tlog-'));
  log = await TransparencyLog.open({ store: SqliteLogStore.open(join(dir, 'log.db')), signer: new LocalSigner(logKey.privateKey), origin: 'sigil.test' });
  server = await serveLog(log, 0);
  const trustedRoot = logOnlyTrustedRoot(logKey.publicKey, log.logId);
  writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(trustedRoot));
  writeFileSync(join(dir, 'app.tgz'), 'release bits');
  writeFileSync(join(dir, 'pred.json'), JSON.stringify({ buildDefinition: { buildType: 'https://example/b' } }));
  assert.equal((await sigil(['generate-key-pair'])).code, 0);
  await addUnrelatedEntry(server.url);
});

after(async () => {
  await server.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const api of ['v2', 'v1'] as const) {
  test(`sign-blob --rekor-url (${api} API): the bundle carries a checked log entry and verifies against the log's key`, async () => {
    const s = await sigil(['sign-blob', '--key', 'cosign.key', '--rekor-url', server.url, '--tlog-api', api, '--bundle', `sig-${api}.json`, '--output', 'json', 'app.tgz']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(JSON.parse(s.stdout).tlogEntries, 1);
    const bundle = JSON.parse(readFileSync(join(dir, `sig-${api}.json`), 'utf8'));
    const entry = bundle.verificationMaterial.tlogEntries[0];
    assert.equal(entry.kindVersion.kind, 'hashedrekord');
    assert.ok(entry.inclusionProof.checkpoint.envelope.startsWith('sigil.test\n'));
    const v = await sigil(['verify-blob', '--bundle', `sig-${api}.json`, '--key', 'cosign.pub', '--trusted-root', 'trusted_root.json', 'app.tgz']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /logged at index \d+/);
  });

  test(`attest-blob --rekor-url (${api} API): dsse entry, verified with the subject check`, async () => {
    const s = await sigil(['attest-blob', '--key', 'cosign.key', '--predicate', 'pred.json', '--type', 'slsaprovenance1', '--tlog-url', server.url, '--tlog-api', api, '--bundle', `att-${api}.json`, 'app.tgz']);
    assert.equal(s.code, 0, s.stderr);
    const entry = JSON.parse(readFileSync(join(dir, `att-${api}.json`), 'utf8')).verificationMaterial.tlogEntries[0];
    assert.equal(entry.kindVersion.kind, 'dsse');
    const v = await sigil(['verify-blob', '--bundle', `att-${api}.json`, '--key', 'cosign.pub', '--trusted-root', 'trusted_root.json', 'app.tgz']);
    assert.equal(v.code, 0, v.stderr);
  });
}

test('--rekor-url problems are input errors: bad URL, bad API, unreachable log (no bundle written)', async () => {
  for (const [args, cause] of [
    [['--rekor-url', 'not a url'], /USAGE: --rekor-url "not a url" is not a URL/],
    [['--rekor-url', 'ftp://x'], /USAGE: --rekor-url must be http/],
    [['--rekor-url', server.url, '--tlog-api', 'v3'], /USAGE: --tlog-api must be v1 or v2/],
    [['--rekor-url', server.url, '--tlog-url', 'http://127.0.0.1:1'], /USAGE: --rekor-url and --tlog-url name different logs/],
    [['--rekor-url', 'http://127.0.0.1:1'], /NETWORK: cannot reach the transparency log/],
  ] as const) {
    const r = await sigil(['sign-blob', '--key', 'cosign.key', ...args, '--bundle', 'never.json', 'app.tgz']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, cause);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.throws(() => readFileSync(join(dir, 'never.json')));
});
