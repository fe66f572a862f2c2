/**
 * sigstore-js as an independent client of sigil's log: @sigstore/sign 4.x writes hashedrekord and
 * DSSE entries through both the Rekor v2 and v1 APIs, and @sigstore/verify 3.x verifies the
 * resulting bundles (checkpoint signature, inclusion proof, v1 SET, entry body) with sigil's log
 * key in a trusted root — and rejects them with another log key.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DSSEBundleBuilder, MessageSignatureBundleBuilder, RekorWitness, TSAWitness, type Signer } from '@sigstore/sign';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { LocalSigner } from '../../src/crypto/local-signer.js';
import { SqliteLogStore } from '../../src/services/storage/sqlite-log-store.js';
import { TransparencyLog } from '../../src/services/log/log.js';
import { serveLog } from '../../src/services/log/server.js';
import type { RunningServer } from '../../src/services/http.js';
import { freePort } from '../helpers/postgres.js';
import { LogClient, hashedRekordRequestV2 } from '../../src/sign/log-client.js';
import { listen } from '../../src/services/http.js';
import { TimestampAuthority } from '../../src/services/tsa/authority.js';
import { tsaHandler } from '../../src/services/tsa/server.js';
import { importPrivateKey } from '../../src/crypto/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'sigil-log-interop-'));
let log: TransparencyLog;
let server: RunningServer;
let signer: Signer;
let caDer: Buffer;
let tsaDer: Buffer;
let tsaServer: RunningServer;
const SAN = 'signer@example.com';
const logKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

before(async () => {
  // A private CA and a code-signing leaf certificate, as Fulcio would issue (email SAN).
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/O=sigil-test/CN=ca', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.pem']);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'leaf.key']);
  openssl(['req', '-new', '-key', 'leaf.key', '-subj', '/CN=signer', '-out', 'leaf.csr']);
  writeFileSync(join(dir, 'ext.cnf'), `keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=email:${SAN}\n`);
  openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'ext.cnf', '-out', 'leaf.pem']);
  caDer = Buffer.from(new X509Certificate(readFileSync(join(dir, 'ca.pem'))).raw);
  // Rekor v2 entries carry no integrated time, so Sigstore verifiers need an RFC 3161 timestamp:
  // sigil's TSA (src/services/tsa) with a timeStamping certificate from the same CA.
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'tsa.key']);
  openssl(['req', '-new', '-key', 'tsa.key', '-subj', '/CN=tsa', '-out', 'tsa.csr']);
  writeFileSync(join(dir, 'tsa.cnf'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n');
  openssl(['x509', '-req', '-in', 'tsa.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'tsa.cnf', '-out', 'tsa.pem']);
  tsaDer = Buffer.from(new X509Certificate(readFileSync(join(dir, 'tsa.pem'))).raw);
  const tsa = new TimestampAuthority({ signer: new LocalSigner(importPrivateKey(readFileSync(join(dir, 'tsa.key')))), chain: [tsaDer, caDer] });
  tsaServer = await listen(tsaHandler(tsa), 0);
  const leafPem = readFileSync(join(dir, 'leaf.pem'), 'utf8');
  const leafKey = readFileSync(join(dir, 'leaf.key'), 'utf8');
  signer = { sign: (data: Buffer) => Promise.resolve({ signature: sign('sha256', data, leafKey), key: { $case: 'x509Certificate', certificate: leafPem } }) };

  // The checkpoint key name must be found in the trusted root's baseUrl (@sigstore/verify), so the origin is host:port.
  const port = await freePort();
  log = await TransparencyLog.open({ store: SqliteLogStore.open(join(dir, 'log.db')), signer: new LocalSigner(logKey.privateKey), origin: `127.0.0.1:${port}` });
  server = await serveLog(log, port);
  // Seed the log so that every later entry has a non-empty inclusion proof to tamper with.
  const seed = new LogClient({ url: server.url });
  const seedKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  for (const n of ['seed-1', 'seed-2', 'seed-3']) {
    const data = Buffer.from(n);
    await seed.uploadRequest(hashedRekordRequestV2(createHash('sha256').update(data).digest(), sign('sha256', data, seedKey.privateKey), { publicKey: seedKey.publicKey.export({ type: 'spki', format: 'der' }) }, 'PKIX_ECDSA_P256_SHA_256'));
  }
});
after(async () => {
  await tsaServer.close();
  await server.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

function trustedRoot(tlogKey = logKey.publicKey, logId = log.logId): ReturnType<typeof toTrustMaterial> {
  const start = new Date(Date.now() - 3600_000).toISOString();
  return toTrustMaterial(
    TrustedRoot.fromJSON({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: server.url,
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: tlogKey.export({ type: 'spki', format: 'der' }).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
          logId: { keyId: logId.toString('base64') },
        },
      ],
      certificateAuthorities: [{ subject: { organization: 'sigil-test', commonName: 'ca' }, uri: 'https://ca.test', certChain: { certificates: [{ rawBytes: caDer.toString('base64') }] }, validFor: { start } }],
      ctlogs: [],
      timestampAuthorities: [{ subject: { organization: 'sigil-test', commonName: 'tsa' }, uri: 'https://tsa.test', certChain: { certificates: [{ rawBytes: tsaDer.toString('base64') }, { rawBytes: caDer.toString('base64') }] }, validFor: { start } }],
    }),
  );
}

function verify(bundleJson: unknown, artifact: Buffer | undefined, trust = trustedRoot()): void {
  const bundle = bundleFromJSON(bundleJson);
  new Verifier(trust, { ctlogThreshold: 0, tlogThreshold: 1, timestampThreshold: 1 }).verify(toSignedEntity(bundle, artifact), { subjectAlternativeName: SAN });
}

const witnesses = (api: 1 | 2, entryType?: 'dsse' | 'intoto') => [
  new RekorWitness({ rekorBaseURL: server.url, majorApiVersion: api, ...(entryType ? { entryType } : {}) }),
  ...(api === 2 ? [new TSAWitness({ tsaBaseURL: tsaServer.url })] : []),
];

for (const api of [2, 1] as const) {
  test(`@sigstore/sign writes a hashedrekord through Rekor v${api}; @sigstore/verify accepts it with sigil's log key`, async () => {
    const artifact = Buffer.from(`artifact for v${api} ${Date.now()}`);
    const builder = new MessageSignatureBundleBuilder({ signer, witnesses: witnesses(api) });
    const json = bundleToJSON(await builder.create({ data: artifact }));
    const entry = json.verificationMaterial.tlogEntries[0]!;
    assert.equal(entry.kindVersion!.version, api === 2 ? '0.0.2' : '0.0.1');
    assert.equal(entry.logId!.keyId, log.logId.toString('base64'));
    verify(json, artifact);
    assert.throws(() => verify(json, Buffer.from('other artifact')), /SIGNATURE_ERROR|signature/i);
    // Another log key in the trusted root: the checkpoint (and SET) no longer verify.
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    assert.throws(() => verify(json, artifact, trustedRoot(otherKey)), (e: { code?: string }) => /TLOG/.test(e.code ?? ''));
    // A flipped bit in one proof hash: the inclusion proof no longer leads to the signed root.
    const tampered = structuredClone(json);
    const hashes = tampered.verificationMaterial.tlogEntries[0]!.inclusionProof!.hashes!;
    assert.ok(hashes.length > 0, 'the log was seeded, so every proof has hashes');
    const h = Buffer.from(hashes[0]!, 'base64');
    h[0]! ^= 1;
    hashes[0] = h.toString('base64');
    assert.throws(() => verify(tampered, artifact), (e: { code?: string }) => /TLOG/.test(e.code ?? ''));
  });

  test(`@sigstore/sign writes a DSSE attestation through Rekor v${api}; @sigstore/verify accepts it`, async () => {
    const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'a', digest: { sha256: 'aa'.repeat(32) } }], predicateType: 'https://example.com/p', predicate: { v: api, t: Date.now() } }));
    const builder = new DSSEBundleBuilder({ signer, witnesses: witnesses(api) });
    const json = bundleToJSON(await builder.create({ data: statement, type: 'application/vnd.in-toto+json' }));
    assert.equal(json.verificationMaterial.tlogEntries[0]!.kindVersion!.kind, 'dsse');
    verify(json, undefined);
  });
}

test('@sigstore/sign intoto entries (Rekor v1) verify too', async () => {
  const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'https://example.com/p', predicate: { intoto: Date.now() } }));
  const builder = new DSSEBundleBuilder({ signer, witnesses: witnesses(1, 'intoto') });
  const json = bundleToJSON(await builder.create({ data: statement, type: 'application/vnd.in-toto+json' }));
  assert.equal(json.verificationMaterial.tlogEntries[0]!.kindVersion!.kind, 'intoto');
  verify(json, undefined);
});
