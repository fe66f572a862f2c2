/**
 * Sigstore bundle, DSSE envelope and in-toto statement parsing: every corpus bundle parses (or is
 * rejected for the reason its case names), per-version rules hold, v0.3 serialization round-trips,
 * and malformed inputs fail with the field's JSON path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { SigilError } from '../../src/core/errors.js';
import { bundleFromJSON, bundleToJSON, parseBundle, serializeBundle, BUNDLE_V03_MEDIA_TYPE } from '../../src/formats/bundle.js';
import { envelopeToJSON, parseEnvelope, envelopePae } from '../../src/formats/dsse.js';
import { findSubject, makeStatement, parseStatement, STATEMENT_V1 } from '../../src/formats/intoto.js';
import { corpusPath } from '../helpers/paths.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const caseBundle = (name: string): Json => JSON.parse(readFileSync(corpusPath(`sigstore-conformance/bundle-verify/${name}/bundle.sigstore.json`), 'utf8')) as Json;

function rejects(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SigilError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test('every conformance bundle parses, except those whose structure is what makes them fail', () => {
  const structural = new Set(['bundle-empty-certificate-chain_fail', 'bundle-invalid-base64-signature_fail', 'bundle-malformed-json_fail', 'bundle-negative-log-index_fail', 'bundle-unknown-version_fail', 'intoto-missing-inclusion-proof_fail', 'invalid-inclusion-proof_fail', 'rekor2-no-inclusion-proof_fail']);
  const dir = corpusPath('sigstore-conformance/bundle-verify');
  for (const name of readdirSync(dir)) {
    const p = `${dir}/${name}/bundle.sigstore.json`;
    if (!existsSync(p)) continue;
    const text = readFileSync(p);
    if (structural.has(name)) assert.throws(() => parseBundle(text), SigilError, name);
    else assert.doesNotThrow(() => parseBundle(text), name);
  }
});

test('media types: v0.1, v0.2, v0.3 and the v0.3 new form; anything else is BUNDLE_UNSUPPORTED', () => {
  assert.equal(parseBundle(JSON.stringify(caseBundle('happy-path-v0.1'))).version, '0.1');
  assert.equal(parseBundle(JSON.stringify(caseBundle('happy-path-v0.2'))).version, '0.2');
  assert.equal(parseBundle(JSON.stringify(caseBundle('happy-path-v0.3'))).version, '0.3');
  assert.equal(parseBundle(JSON.stringify(caseBundle('happy-path-v0.3-new-mediaType'))).version, '0.3');
  const b = caseBundle('happy-path-v0.3');
  for (const mt of ['application/vnd.dev.sigstore.bundle+json;version=0.4', 'application/json', '']) {
    rejects(() => bundleFromJSON({ ...b, mediaType: mt }), 'BUNDLE_UNSUPPORTED');
  }
  rejects(() => bundleFromJSON({ ...b, mediaType: undefined }), 'BUNDLE_MALFORMED', /bundle.mediaType is missing/);
});

test('per-version rules: v0.1 needs a promise, v0.2+ a proof with checkpoint, v0.3 no chain, certificate only from v0.3', () => {
  const v01 = caseBundle('happy-path-v0.1');
  delete v01.verificationMaterial.tlogEntries[0].inclusionPromise;
  rejects(() => bundleFromJSON(v01), 'BUNDLE_MALFORMED', /inclusionPromise is missing \(required in a v0.1 bundle\)/);
  const v02 = caseBundle('happy-path-v0.2');
  delete v02.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
  rejects(() => bundleFromJSON(v02), 'BUNDLE_MALFORMED', /checkpoint is missing/);
  const v03 = caseBundle('happy-path-v0.3');
  v03.verificationMaterial.x509CertificateChain = { certificates: [v03.verificationMaterial.certificate] };
  delete v03.verificationMaterial.certificate;
  rejects(() => bundleFromJSON(v03), 'BUNDLE_MALFORMED', /x509CertificateChain is not allowed in a v0.3 bundle/);
  const v02cert = caseBundle('happy-path-v0.2');
  v02cert.verificationMaterial.certificate = v02cert.verificationMaterial.x509CertificateChain.certificates[0];
  delete v02cert.verificationMaterial.x509CertificateChain;
  rejects(() => bundleFromJSON(v02cert), 'BUNDLE_MALFORMED', /certificate is only defined from bundle v0.3 on/);
});

test('content: exactly one of messageSignature and dsseEnvelope; one DSSE signature; digest length matches its algorithm', () => {
  const msg = caseBundle('happy-path-v0.3');
  const dsse = caseBundle('happy-path-intoto-in-dsse-v3');
  rejects(() => bundleFromJSON({ ...msg, dsseEnvelope: dsse.dsseEnvelope }), 'BUNDLE_MALFORMED', /both messageSignature and dsseEnvelope/);
  rejects(() => bundleFromJSON({ ...msg, messageSignature: undefined }), 'BUNDLE_MALFORMED', /neither/);
  const two = caseBundle('happy-path-intoto-in-dsse-v3');
  two.dsseEnvelope.signatures.push(two.dsseEnvelope.signatures[0]);
  rejects(() => bundleFromJSON(two), 'BUNDLE_MALFORMED', /exactly one signature, found 2/);
  const short = caseBundle('happy-path-v0.3');
  short.messageSignature.messageDigest.digest = Buffer.alloc(20).toString('base64');
  rejects(() => bundleFromJSON(short), 'BUNDLE_MALFORMED', /20 bytes, not a SHA2_256 digest/);
  const sha3 = caseBundle('happy-path-v0.3');
  sha3.messageSignature.messageDigest.algorithm = 'SHA3_256';
  rejects(() => bundleFromJSON(sha3), 'BUNDLE_MALFORMED', /algorithm has unsupported value "SHA3_256"/);
});

test('malformed fields name their JSON path: numbers, hashes, base64, types', () => {
  const mk = (edit: (b: Json) => void): Json => {
    const b = caseBundle('happy-path-v0.3');
    edit(b);
    return b;
  };
  const e0 = 'bundle.verificationMaterial.tlogEntries[0]';
  rejects(() => bundleFromJSON(mk((b) => (b.verificationMaterial.tlogEntries[0].logIndex = '12.5'))), 'BUNDLE_MALFORMED', new RegExp(`${e0.replace(/[[\].]/g, '\\$&')}.logIndex must be an integer`));
  rejects(() => bundleFromJSON(mk((b) => (b.verificationMaterial.tlogEntries[0].logIndex = '99999999999999999999'))), 'BUNDLE_MALFORMED', /out of the int64 range/);
  rejects(() => bundleFromJSON(mk((b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0] = 'AAAA'))), 'BUNDLE_MALFORMED', /hashes\[0\] must be 32 bytes, got 3/);
  rejects(() => bundleFromJSON(mk((b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.logIndex = b.verificationMaterial.tlogEntries[0].inclusionProof.treeSize))), 'BUNDLE_MALFORMED', /must be below treeSize/);
  rejects(() => bundleFromJSON(mk((b) => (b.verificationMaterial.certificate.rawBytes = 'QUJD@'))), 'BUNDLE_MALFORMED', /certificate.rawBytes is not valid base64/);
  rejects(() => bundleFromJSON(mk((b) => (b.verificationMaterial.certificate.rawBytes = 'QQ='))), 'BUNDLE_MALFORMED', /bad padding/);
  rejects(() => bundleFromJSON(mk((b) => (b.verificationMaterial.tlogEntries = {}))), 'BUNDLE_MALFORMED', /tlogEntries must be a JSON array/);
  rejects(() => bundleFromJSON(mk((b) => (b.verificationMaterial.tlogEntries[0].kindVersion.kind = ''))), 'BUNDLE_MALFORMED', /kind must not be empty/);
  rejects(() => bundleFromJSON(mk((b) => delete b.verificationMaterial.tlogEntries[0].canonicalizedBody)), 'BUNDLE_MALFORMED', /canonicalizedBody is missing/);
  rejects(() => bundleFromJSON([]), 'BUNDLE_MALFORMED', /bundle must be a JSON object/);
  rejects(() => parseBundle('{"mediaType": '), 'JSON_MALFORMED', /bundle is not valid JSON/);
  // Base64 may be URL-safe and unpadded (protobuf JSON mapping) and wrapped (Go's protojson).
  const sig = caseBundle('happy-path-v0.3').messageSignature.signature as string;
  const url = mk((b) => (b.messageSignature.signature = Buffer.from(sig, 'base64').toString('base64url')));
  assert.deepEqual(parseBundle(JSON.stringify(url)).bundle.content, parseBundle(JSON.stringify(caseBundle('happy-path-v0.3'))).bundle.content);
  const wrapped = mk((b) => (b.messageSignature.signature = sig.slice(0, 20) + '\n' + sig.slice(20)));
  assert.doesNotThrow(() => parseBundle(JSON.stringify(wrapped)));
});

test('a missing logIndex is proto3 JSON for 0: the first entry of a log parses and serializes without the field', () => {
  const b = caseBundle('happy-path-v0.3');
  const entry = b.verificationMaterial.tlogEntries[0];
  delete entry.logIndex;
  delete entry.inclusionProof.logIndex;
  const parsed = bundleFromJSON(b).bundle;
  assert.equal(parsed.verificationMaterial.tlogEntries[0]!.logIndex, '0');
  assert.equal(parsed.verificationMaterial.tlogEntries[0]!.inclusionProof!.logIndex, '0');
  const out = JSON.parse(serializeBundle(parsed)) as Json;
  assert.equal(out.verificationMaterial.tlogEntries[0].logIndex ?? '0', '0');
  // A negative index is still refused (conformance bundle-negative-log-index_fail).
  rejects(() => bundleFromJSON({ ...b, verificationMaterial: { ...b.verificationMaterial, tlogEntries: [{ ...entry, logIndex: '-1' }] } }), 'BUNDLE_MALFORMED', /logIndex must be at least 0/);
});

test('v0.3 serialization round-trips and converts a v0.2 chain to its leaf certificate', () => {
  for (const name of ['happy-path-v0.3', 'happy-path-intoto-in-dsse-v3', 'rekor2-happy-path', 'managed-key-happy-path']) {
    const parsed = parseBundle(JSON.stringify(caseBundle(name)));
    const again = parseBundle(serializeBundle(parsed.bundle));
    assert.equal(again.bundle.mediaType, BUNDLE_V03_MEDIA_TYPE);
    assert.deepEqual(again.bundle.content, parsed.bundle.content, name);
    assert.deepEqual(again.bundle.verificationMaterial.tlogEntries, parsed.bundle.verificationMaterial.tlogEntries, name);
  }
  const v02 = parseBundle(JSON.stringify(caseBundle('happy-path-v0.2')));
  const json = bundleToJSON(v02.bundle) as Json;
  assert.equal(json.verificationMaterial.certificate.rawBytes, caseBundle('happy-path-v0.2').verificationMaterial.x509CertificateChain.certificates[0].rawBytes);
  // A v0.1 bundle whose entries lack a proof cannot be relabelled as v0.3.
  const v01 = parseBundle(readFileSync(corpusPath('sigstore-js/tests/bundles/bundleV01-dsse-no-proof.sigstore')));
  assert.throws(() => serializeBundle(v01.bundle), (e: unknown) => e instanceof SigilError && /inclusionProof is missing/.test(e.message));
});

test('DSSE envelopes: parse, PAE, serialize; malformed envelopes are DSSE_MALFORMED', () => {
  const env = caseBundle('happy-path-intoto-in-dsse-v3').dsseEnvelope as Json;
  const parsed = parseEnvelope(JSON.stringify(env));
  assert.equal(parsed.payloadType, 'application/vnd.in-toto+json');
  assert.deepEqual(envelopeToJSON(parsed), { payloadType: env.payloadType, payload: env.payload, signatures: env.signatures.map((s: Json) => ({ sig: s.sig })) });
  const pae = envelopePae(parsed).toString('latin1');
  assert.ok(pae.startsWith(`DSSEv1 28 application/vnd.in-toto+json ${parsed.payload.length} `));
  rejects(() => parseEnvelope(JSON.stringify({ ...env, signatures: [] })), 'DSSE_MALFORMED', /signatures is empty/);
  rejects(() => parseEnvelope(JSON.stringify({ ...env, payloadType: '' })), 'DSSE_MALFORMED', /payloadType must not be empty/);
  rejects(() => parseEnvelope(JSON.stringify({ ...env, payload: 'a b' })), 'DSSE_MALFORMED', /payload is not valid base64/);
  rejects(() => parseEnvelope('[1,2'), 'DSSE_MALFORMED', /DSSE envelope is not valid JSON/);
});

test('in-toto statements: v1 and v0.1 read, subjects found by digest, malformed statements rejected', () => {
  const env = caseBundle('happy-path-intoto-in-dsse-v3').dsseEnvelope as Json;
  const st = parseStatement(Buffer.from(env.payload, 'base64'));
  assert.equal(st.type, STATEMENT_V1);
  assert.equal(st.predicateType, 'https://slsa.dev/provenance/v1');
  const aTxt = readFileSync(corpusPath('sigstore-conformance/bundle-verify/a.txt'));
  assert.equal(findSubject(st, 'sha256', createHash('sha256').update(aTxt).digest())?.name, 'a.txt');
  assert.equal(findSubject(st, 'sha256', Buffer.alloc(32)), undefined);
  const npm = JSON.parse(readFileSync(corpusPath('sigstore-js/tests/bundles/bundleV01-dsse-no-proof.sigstore'), 'utf8')) as Json;
  const v01 = parseStatement(Buffer.from(npm.dsseEnvelope.payload, 'base64'));
  assert.equal(v01.type, 'https://in-toto.io/Statement/v0.1');
  assert.ok(v01.subjects[0]!.digest.sha512);
  const made = makeStatement([{ name: 'x', digest: { sha256: 'ab'.repeat(32) } }], 'https://example.com/p', { a: 1 });
  assert.equal(parseStatement(JSON.stringify(made)).subjects[0]!.digest.sha256, 'ab'.repeat(32));
  rejects(() => parseStatement(JSON.stringify({ ...made, _type: 'https://in-toto.io/Statement/v2' })), 'STATEMENT_MALFORMED', /unsupported in-toto statement type/);
  rejects(() => parseStatement(JSON.stringify({ ...made, subject: [] })), 'STATEMENT_MALFORMED', /subject is empty/);
  rejects(() => parseStatement(JSON.stringify({ ...made, subject: [{ name: 'x', digest: { sha256: 'zz' } }] })), 'STATEMENT_MALFORMED', /digest.sha256 is not a 32-byte hex digest/);
  rejects(() => parseStatement(JSON.stringify({ ...made, predicateType: 5 })), 'STATEMENT_MALFORMED', /predicateType must be a string/);
});
