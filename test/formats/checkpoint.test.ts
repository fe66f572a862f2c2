import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import {
  parseSignedNote,
  splitSignedNote,
  verifySignedNote,
  signNote,
  cosignNote,
  formatCheckpoint,
  noteVerifierKey,
  noteKeyHint,
  noteKeyId,
  type NoteVerifierKey,
} from '../../src/formats/checkpoint.js';
import { isSigilError } from '../../src/core/errors.js';
import type { Signer } from '../../src/crypto/signer.js';
import { corpusPath } from '../helpers/paths.js';

const CASES = corpusPath('sigstore-conformance', 'bundle-verify');

interface TrustedRootJson {
  tlogs: { baseUrl: string; publicKey: { rawBytes: string }; logId: { keyId: string } }[];
}

function logKeys(caseName: string): NoteVerifierKey[] {
  const own = `${CASES}/${caseName}/trusted_root.json`;
  const file = existsSync(own) ? own : corpusPath('trusted-roots', 'public-good', 'trusted_root.json');
  const root = JSON.parse(readFileSync(file, 'utf8')) as TrustedRootJson;
  return root.tlogs.map((t) => noteVerifierKey(new URL(t.baseUrl).host, Buffer.from(t.publicKey.rawBytes, 'base64')));
}

function checkpointOf(caseName: string): string {
  const b = JSON.parse(readFileSync(`${CASES}/${caseName}/bundle.sigstore.json`, 'utf8')) as {
    verificationMaterial: { tlogEntries: { inclusionProof: { checkpoint: { envelope: string } } }[] };
  };
  return b.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint.envelope;
}

const isCode = (codes: string[]) => (e: unknown) => isSigilError(e) && codes.includes(e.code);

function makeSigner(type: 'ed25519' | 'p256'): Signer {
  const kp = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const alg = type === 'ed25519' ? null : 'sha256';
  return {
    publicKey: kp.publicKey,
    keyDetails: type === 'ed25519' ? 'PKIX_ED25519' : 'PKIX_ECDSA_P256_SHA_256',
    sign: (data: Uint8Array) => Promise.resolve(cryptoSign(alg, data, kp.privateKey)),
  };
}

test('Rekor v2 (Ed25519) key hint and log ID match the trusted root', () => {
  const root = JSON.parse(readFileSync(`${CASES}/rekor2-happy-path/trusted_root.json`, 'utf8')) as TrustedRootJson;
  const v2 = root.tlogs.find((t) => t.baseUrl.includes('log2025'))!;
  const key = noteVerifierKey('log2025-alpha1.rekor.sigstage.dev', Buffer.from(v2.publicKey.rawBytes, 'base64'));
  assert.equal(noteKeyId(key.name, key.publicKey).toString('base64'), v2.logId.keyId);
  // Rekor v1 (ECDSA): the hint is the prefix of SHA-256 of the PKIX key, i.e. of the log ID.
  const v1 = root.tlogs.find((t) => t.baseUrl === 'https://rekor.sigstage.dev')!;
  const k1 = noteVerifierKey('rekor.sigstage.dev', Buffer.from(v1.publicKey.rawBytes, 'base64'));
  assert.deepEqual(k1.keyHint, Buffer.from(v1.logId.keyId, 'base64').subarray(0, 4));
});

for (const name of [
  'rekor2-happy-path',
  'rekor2-checkpoint-origin-not-first',
  'rekor2-checkpoint-multiple-cosigs',
  'rekor2-checkpoint-cosigned',
  'rekor2-checkpoint-two-sigs-cosigned',
  'rekor2-checkpoint-two-sigs-from-origin',
  'happy-path-v0.3',
  'happy-path-v0.2',
]) {
  test(`corpus ${name}: checkpoint verifies with the log key`, () => {
    const note = parseSignedNote(checkpointOf(name));
    assert.ok(note.size > 0);
    assert.equal(note.rootHash.length, 32);
    const { verifiedBy } = verifySignedNote(note, logKeys(name));
    assert.equal(verifiedBy.length, 1);
  });
}

for (const name of ['rekor2-checkpoint-missing-origin_fail', 'rekor2-checkpoint-missing-size_fail', 'rekor2-checkpoint-missing-root-hash_fail', 'rekor2-checkpoint-missing-log-signature_fail']) {
  test(`corpus ${name}: checkpoint is rejected as malformed`, () => {
    assert.throws(() => parseSignedNote(checkpointOf(name)), isCode(['CHECKPOINT_MALFORMED']));
  });
}

for (const name of ['rekor2-checkpoint-no-matching-signature_fail', 'checkpoint-bad-keyhint_fail', 'invalid-checkpoint-signature_fail']) {
  test(`corpus ${name}: checkpoint signature is rejected`, () => {
    const note = parseSignedNote(checkpointOf(name));
    assert.throws(() => verifySignedNote(note, logKeys(name)), isCode(['TLOG_CHECKPOINT_INVALID']));
  });
}

test('Rekor v1 extension line (Timestamp) is kept as another line', () => {
  const note = parseSignedNote(checkpointOf('checkpoint-bad-keyhint_fail'));
  assert.equal(note.origin, 'rekor.sigstore.dev - 2605736670972794746');
  assert.equal(note.size, 23083062);
  assert.deepEqual(note.otherLines, ['Timestamp: 1689177396617352539']);
});

test('sign then verify with Ed25519 and ECDSA keys; cosignatures by other keys are ignored', async () => {
  for (const type of ['ed25519', 'p256'] as const) {
    const signer = makeSigner(type);
    const body = formatCheckpoint({ origin: 'sigil.test/log', size: 42, rootHash: Buffer.alloc(32, 9), otherLines: ['ext one'] });
    const text = await signNote(body, 'sigil.test', signer);
    const note = parseSignedNote(text);
    assert.equal(note.body, body);
    assert.deepEqual(note.otherLines, ['ext one']);
    const key = noteVerifierKey('sigil.test', signer.publicKey);
    assert.deepEqual(note.signatures[0]!.keyHint, noteKeyHint('sigil.test', signer.publicKey));
    verifySignedNote(note, [key]);
    const witness = makeSigner('ed25519');
    const cosigned = await cosignNote(text, 'witness.test', witness);
    const both = parseSignedNote(cosigned);
    assert.equal(both.signatures.length, 2);
    assert.equal(verifySignedNote(both, [key]).verifiedBy.length, 1);
    assert.equal(verifySignedNote(both, [key, noteVerifierKey('witness.test', witness.publicKey)]).verifiedBy.length, 2);
    // Same name, other key: ignored (unknown hint), so nothing trusted signed.
    assert.throws(() => verifySignedNote(note, [noteVerifierKey('sigil.test', makeSigner(type).publicKey)]), isCode(['TLOG_CHECKPOINT_INVALID']));
    // Same key, other name: ignored too.
    assert.throws(() => verifySignedNote(note, [noteVerifierKey('other.test', signer.publicKey)]), isCode(['TLOG_CHECKPOINT_INVALID']));
    // Altered text with the known key's signature: rejected.
    const altered = parseSignedNote(text.replace('\n42\n', '\n43\n'));
    assert.throws(() => verifySignedNote(altered, [key]), isCode(['TLOG_CHECKPOINT_INVALID']));
    // A known key's bad signature rejects the note even when another known key's signature is good.
    const sigLine = text.split('\n').find((l) => l.startsWith('—'))!;
    const raw = Buffer.from(sigLine.split(' ')[2]!, 'base64');
    raw[raw.length - 1]! ^= 1;
    const forged = `${cosigned}\u2014 sigil.test ${raw.toString('base64')}\n`;
    assert.throws(() => verifySignedNote(parseSignedNote(forged), [key]), isCode(['TLOG_CHECKPOINT_INVALID']));
  }
});

test('malformed notes are rejected with CHECKPOINT_MALFORMED', () => {
  const good = 'o\n1\n' + Buffer.alloc(32).toString('base64') + '\n\n\u2014 k AAAAAAA=\n';
  parseSignedNote(good);
  const root = Buffer.alloc(32).toString('base64');
  const bad: Record<string, string> = {
    'no blank line': `o\n1\n${root}\n\u2014 k AAAAAAA=\n`,
    'no trailing newline': `o\n1\n${root}\n\n\u2014 k AAAAAAA=`,
    'no signatures': `o\n1\n${root}\n\n`,
    'hyphen instead of em dash': `o\n1\n${root}\n\n- k AAAAAAA=\n`,
    'bad base64': `o\n1\n${root}\n\n\u2014 k AAAA*AA=\n`,
    'unpadded base64': `o\n1\n${root}\n\n\u2014 k AAAAAAA\n`,
    'signature too short': `o\n1\n${root}\n\n\u2014 k AAAA\n`,
    'name with plus': `o\n1\n${root}\n\n\u2014 k+x AAAAAAA=\n`,
    'empty name': `o\n1\n${root}\n\n\u2014  AAAAAAA=\n`,
    'carriage return': `o\r\n1\n${root}\n\n\u2014 k AAAAAAA=\n`,
    'empty text': `\n\n\u2014 k AAAAAAA=\n`,
    'empty origin': `\n1\n${root}\n\n\u2014 k AAAAAAA=\n`,
    'leading zero size': `o\n01\n${root}\n\n\u2014 k AAAAAAA=\n`,
    'negative size': `o\n-1\n${root}\n\n\u2014 k AAAAAAA=\n`,
    'huge size': `o\n18446744073709551615\n${root}\n\n\u2014 k AAAAAAA=\n`,
    'short root': `o\n1\n${Buffer.alloc(31).toString('base64')}\n\n\u2014 k AAAAAAA=\n`,
    'root not base64': `o\n1\nnot-base64!\n\n\u2014 k AAAAAAA=\n`,
    'empty extension line': `o\n1\n${root}\n\nx\n\n\u2014 k AAAAAAA=\n`,
    'blank line between signatures': `o\n1\n${root}\n\n\u2014 k AAAAAAA=\n\n\u2014 k AAAAAAA=\n`,
  };
  for (const [why, text] of Object.entries(bad)) {
    assert.throws(() => parseSignedNote(text), isCode(['CHECKPOINT_MALFORMED']), why);
  }
  assert.throws(() => splitSignedNote(42 as unknown as string), isCode(['CHECKPOINT_MALFORMED']));
});
