/**
 * C2SP signed notes (c2sp.org/signed-note) carrying transparency-log checkpoints
 * (c2sp.org/tlog-checkpoint): parse strictly, verify against known keys, sign.
 *
 *   <origin>\n<size>\n<base64 root hash>\n[<extension line>\n…]\n— <name> <base64(keyHint ‖ signature)>\n…
 *
 * Key hints (the 4 bytes in front of each signature):
 * - Ed25519: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte key)[:4] (signed-note §Ed25519);
 * - ECDSA: SHA-256(PKIX DER public key)[:4] — not the signed-note rule; it is what Rekor v1 and
 *   rekor-tiles (pkg/note) use, so that the hint is the prefix of the Sigstore log ID;
 * - RSA: SHA-256(name ‖ 0x0A ‖ 0xFF ‖ "PKIX-RSA-PKCS#1v1.5" ‖ PKIX DER)[:4] (rekor-tiles).
 *
 * Verification follows golang.org/x/mod/sumdb/note: signatures from unknown keys (witness
 * cosignatures, other logs) are ignored; a signature that claims a known key (same name and hint)
 * but does not verify rejects the whole note; at least one known key must have signed.
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { SigilError } from '../core/errors.js';
import type { Signer } from '../crypto/signer.js';

export interface NoteSignature {
  name: string;
  keyHint: Buffer;
  signature: Buffer;
}

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
  /** Extension lines after the root hash, without their newlines. */
  otherLines: string[];
}

export interface SignedCheckpoint extends Checkpoint {
  /** The signed text: every line of the checkpoint including its final newline. */
  body: string;
  signatures: NoteSignature[];
}

/** A key a verifier trusts for notes. */
export interface NoteVerifierKey {
  /** The key name in signature lines (for a log: its origin's host part, e.g. rekor.sigstore.dev). */
  name: string;
  keyHint: Buffer;
  publicKey: KeyObject;
}

const EM_DASH_PREFIX = '\u2014 ';
const MAX_SIGNATURES = 100;
const STRICT_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const RSA_NOTE_ID = 'PKIX-RSA-PKCS#1v1.5';

function malformed(msg: string): SigilError {
  return new SigilError('CHECKPOINT_MALFORMED', msg, {
    hint: 'a checkpoint is origin, size and base64 root hash lines, a blank line, then "— name signature" lines',
  });
}

function strictBase64(s: string, what: string): Buffer {
  if (!STRICT_B64.test(s)) throw malformed(`${what} is not canonical base64`);
  const b = Buffer.from(s, 'base64');
  // Non-canonical trailing bits would give two encodings of one value; refuse them.
  if (b.toString('base64') !== s) throw malformed(`${what} is not canonical base64`);
  return b;
}

/** signed-note key names: non-empty, no Unicode whitespace, no "+". */
export function isValidNoteName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

/** Splits a signed note into its text and signature lines (signed-note §Format). */
export function splitSignedNote(note: string): { body: string; signatures: NoteSignature[] } {
  if (typeof note !== 'string') throw malformed('note is not a string');
  // Text is UTF-8 without control characters other than newline (signed-note §Note text).
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(note)) throw malformed('note contains a control character (only \\n is allowed)');
  if (/[\ud800-\udfff]/u.test(note)) throw malformed('note is not well-formed UTF-8');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('note has no blank line between text and signatures');
  const body = note.slice(0, split + 1);
  const sigText = note.slice(split + 2);
  if (body.length === 0 || body === '\n') throw malformed('note text is empty');
  if (sigText.length === 0) throw malformed('note has no signature lines');
  if (!sigText.endsWith('\n')) throw malformed('note does not end with a newline after its last signature');
  const lines = sigText.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw malformed(`note has ${lines.length} signatures, more than ${MAX_SIGNATURES}`);
  const signatures = lines.map((line, i) => {
    if (!line.startsWith(EM_DASH_PREFIX)) throw malformed(`signature line ${i + 1} does not start with "— "`);
    const rest = line.slice(EM_DASH_PREFIX.length);
    const sp = rest.lastIndexOf(' ');
    if (sp <= 0) throw malformed(`signature line ${i + 1} is not "— <name> <base64>"`);
    const name = rest.slice(0, sp);
    if (!isValidNoteName(name)) throw malformed(`signature line ${i + 1} has an invalid key name ${JSON.stringify(name)}`);
    const raw = strictBase64(rest.slice(sp + 1), `signature on line ${i + 1}`);
    if (raw.length < 5) throw malformed(`signature on line ${i + 1} is shorter than a key hint and a signature`);
    return { name, keyHint: raw.subarray(0, 4), signature: raw.subarray(4) };
  });
  return { body, signatures };
}

/** Parses the text of a checkpoint (tlog-checkpoint §Note text). */
export function parseCheckpointBody(body: string): Checkpoint {
  if (!body.endsWith('\n')) throw malformed('checkpoint text does not end with a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed(`checkpoint has ${lines.length} lines; origin, size and root hash are required`);
  const [origin, sizeLine, rootLine, ...otherLines] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw malformed('checkpoint origin line is empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine)) throw malformed(`checkpoint size ${JSON.stringify(sizeLine)} is not a decimal number without leading zeros`);
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw malformed(`checkpoint size ${sizeLine} is larger than 2^53-1`);
  const rootHash = strictBase64(rootLine, 'checkpoint root hash');
  if (rootHash.length !== 32) throw malformed(`checkpoint root hash is ${rootHash.length} bytes, not 32`);
  otherLines.forEach((l, i) => {
    if (l.length === 0) throw malformed(`checkpoint extension line ${i + 1} is empty`);
  });
  return { origin, size, rootHash, otherLines };
}

/** Parses a signed checkpoint note. Throws CHECKPOINT_MALFORMED on any format error. */
export function parseSignedNote(text: string): SignedCheckpoint {
  const { body, signatures } = splitSignedNote(text);
  return { ...parseCheckpointBody(body), body, signatures };
}

/** The checkpoint text for a tree head (inverse of parseCheckpointBody). */
export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin.length === 0 || c.origin.includes('\n')) throw new SigilError('INTERNAL', 'checkpoint origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new SigilError('INTERNAL', `checkpoint size ${c.size} is not a non-negative integer`);
  if (c.rootHash.length !== 32) throw new SigilError('INTERNAL', 'checkpoint root hash must be 32 bytes');
  for (const l of c.otherLines) if (l.length === 0 || l.includes('\n')) throw new SigilError('INTERNAL', 'checkpoint extension lines must be non-empty single lines');
  return [c.origin, String(c.size), c.rootHash.toString('base64'), ...c.otherLines].join('\n') + '\n';
}

function spki(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

/** Full 32-byte key ID of a note key; its first 4 bytes are the key hint. For a Rekor v2 log it is the log ID. */
export function noteKeyId(name: string, publicKey: KeyObject): Buffer {
  const type = publicKey.asymmetricKeyType;
  const h = createHash('sha256');
  if (type === 'ed25519') {
    // The raw key is the last 32 bytes of the 44-byte Ed25519 SPKI.
    h.update(name).update('\n').update(Buffer.from([0x01])).update(spki(publicKey).subarray(-32));
  } else if (type === 'ec') {
    h.update(spki(publicKey));
  } else if (type === 'rsa') {
    h.update(name).update('\n').update(Buffer.from([0xff])).update(RSA_NOTE_ID).update(spki(publicKey));
  } else {
    throw new SigilError('KEY_UNSUPPORTED', `no signed-note key hint is defined for ${String(type)} keys`, {
      hint: 'use an Ed25519, ECDSA or RSA key',
    });
  }
  return h.digest();
}

/** Key hints by key and name: a log signs a checkpoint per batch, and exporting the key each time costs more than the hash. */
const HINTS = new WeakMap<KeyObject, Map<string, Buffer>>();

export function noteKeyHint(name: string, publicKey: KeyObject): Buffer {
  let byName = HINTS.get(publicKey);
  if (!byName) HINTS.set(publicKey, (byName = new Map()));
  let hint = byName.get(name);
  if (!hint) byName.set(name, (hint = noteKeyId(name, publicKey).subarray(0, 4)));
  return hint;
}

/** Builds a verifier key; `publicKey` may be a KeyObject or SPKI DER bytes (as in a trusted root). */
export function noteVerifierKey(name: string, publicKey: KeyObject | Uint8Array): NoteVerifierKey {
  const key = publicKey instanceof Uint8Array ? createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' }) : publicKey;
  if (!isValidNoteName(name)) throw new SigilError('KEY_MALFORMED', `note key name ${JSON.stringify(name)} is not valid`);
  return { name, keyHint: noteKeyHint(name, key), publicKey: key };
}

function digestFor(key: KeyObject): string | null {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return null;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
  }
  return 'sha256';
}

function verifyOne(key: KeyObject, body: string, signature: Buffer): boolean {
  try {
    return cryptoVerify(digestFor(key), Buffer.from(body, 'utf8'), key, signature);
  } catch {
    // OpenSSL throws on some malformed signature encodings; that is a failed signature, not a crash.
    return false;
  }
}

export interface VerifiedNote {
  /** The known keys whose signatures verified. */
  verifiedBy: NoteVerifierKey[];
}

/**
 * Throws TLOG_CHECKPOINT_INVALID unless at least one of `keys` signed the note and no signature
 * that claims one of `keys` fails. Other signatures (cosignatures by witnesses) are ignored.
 */
export function verifySignedNote(note: { body: string; signatures: readonly NoteSignature[] }, keys: readonly NoteVerifierKey[]): VerifiedNote {
  const verifiedBy: NoteVerifierKey[] = [];
  for (const sig of note.signatures) {
    const key = keys.find((k) => k.name === sig.name && k.keyHint.equals(sig.keyHint));
    if (!key) continue;
    if (!verifyOne(key.publicKey, note.body, sig.signature)) {
      throw new SigilError('TLOG_CHECKPOINT_INVALID', `checkpoint signature by ${sig.name} (key hint ${sig.keyHint.toString('hex')}) does not verify`, {
        hint: 'the checkpoint was altered or signed by another key with the same hint',
      });
    }
    if (!verifiedBy.includes(key)) verifiedBy.push(key);
  }
  if (verifiedBy.length === 0) {
    const seen = note.signatures.map((s) => `${s.name}/${s.keyHint.toString('hex')}`).join(', ');
    const known = keys.map((k) => `${k.name}/${k.keyHint.toString('hex')}`).join(', ');
    throw new SigilError('TLOG_CHECKPOINT_INVALID', `checkpoint has no signature from a trusted log key (signed by ${seen || 'nobody'}; trusted: ${known || 'none'})`, {
      hint: 'check that the trusted root holds the key of the log that issued this entry',
    });
  }
  return { verifiedBy };
}

/** Signs note text with one key and returns the complete signed note. */
export async function signNote(body: string, name: string, signer: Signer): Promise<string> {
  return addNoteSignature(body + '\n', body, name, signer);
}

/** The signed checkpoint (no extension lines) of a tree of `size` leaves with root `rootHash`, named `origin`. */
export function signCheckpoint(origin: string, size: number, rootHash: Buffer, signer: Signer): Promise<string> {
  return signNote(formatCheckpoint({ origin, size, rootHash, otherLines: [] }), origin, signer);
}

/** Appends one more signature (e.g. a second key during rotation) to an already signed note. */
export async function cosignNote(note: string, name: string, signer: Signer): Promise<string> {
  const { body } = splitSignedNote(note);
  return addNoteSignature(note, body, name, signer);
}

async function addNoteSignature(prefix: string, body: string, name: string, signer: Signer): Promise<string> {
  if (!body.endsWith('\n') || body === '\n') throw new SigilError('INTERNAL', 'note text must be non-empty and end with a newline');
  if (!isValidNoteName(name)) throw new SigilError('USAGE', `note key name ${JSON.stringify(name)} is not valid (no spaces or "+")`);
  const hint = noteKeyHint(name, signer.publicKey);
  const sig = await signer.sign(Buffer.from(body, 'utf8'));
  return `${prefix}${EM_DASH_PREFIX}${name} ${Buffer.concat([hint, sig]).toString('base64')}\n`;
}
