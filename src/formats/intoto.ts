/**
 * in-toto attestation Statements (in-toto/attestation spec/v1/statement.md), the payload of a
 * DSSE envelope with payloadType `application/vnd.in-toto+json`. Reads v1 and the older v0.1
 * (same fields; v0.1 is what npm publish attestations and early SLSA generators emit); writes v1.
 *
 * A statement binds a predicate to its subjects by digest. A verifier that checks the envelope's
 * signature but not the subjects accepts a valid attestation for any other artifact, so
 * `findSubject` is what turns "signed" into "signed for this file".
 */
import { SigilError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import type { DigestAlgorithm } from '../core/digest.js';
import { ProtoReader } from './proto-json.js';

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';

export interface Subject {
  name: string;
  /** Algorithm name → lowercase hex (DigestSet, spec/v1/digest_set.md). */
  digest: Record<string, string>;
}

export interface Statement {
  type: typeof STATEMENT_V1 | typeof STATEMENT_V01;
  subjects: Subject[];
  predicateType: string;
  predicate: unknown;
}

// Lengths (in hex characters) of the algorithms whose values must be hex of a fixed size.
const HEX_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128, sha224: 56, sha1: 40, 'sha512_256': 64, 'sha3_256': 64, 'sha3_384': 96, 'sha3_512': 128 };
const HEX_RE = /^[0-9a-fA-F]+$/;

const r: ProtoReader = new ProtoReader('STATEMENT_MALFORMED');

export function statementFromJSON(json: unknown): Statement {
  const o = r.object(json, 'statement');
  const type = r.string(o._type, 'statement._type');
  if (type !== STATEMENT_V1 && type !== STATEMENT_V01) {
    throw new SigilError('STATEMENT_MALFORMED', `unsupported in-toto statement type ${JSON.stringify(type.slice(0, 80))}`, {
      hint: `expected ${STATEMENT_V1} (or ${STATEMENT_V01})`,
    });
  }
  const subj = r.array(o.subject, 'statement.subject');
  if (subj.length === 0) r.fail('statement.subject', 'is empty', 'a statement must name at least one subject');
  const subjects = subj.map((s, i) => {
    const p = `statement.subject[${i}]`;
    const so = r.object(s, p);
    const dig = r.object(so.digest, `${p}.digest`);
    const digest: Record<string, string> = {};
    for (const [alg, val] of Object.entries(dig)) {
      const v = r.string(val, `${p}.digest.${alg}`);
      const len = HEX_LENGTHS[alg];
      if (len !== undefined && (v.length !== len || !HEX_RE.test(v))) r.fail(`${p}.digest.${alg}`, `is not a ${len / 2}-byte hex digest`);
      digest[alg] = len !== undefined ? v.toLowerCase() : v;
    }
    if (Object.keys(digest).length === 0) r.fail(`${p}.digest`, 'is empty');
    return { name: r.optString(so.name, `${p}.name`), digest };
  });
  const predicateType = r.nonEmptyString(o.predicateType, 'statement.predicateType');
  return { type, subjects, predicateType, predicate: o.predicate };
}

/** Parses a statement from a DSSE payload. */
export function parseStatement(payload: string | Uint8Array): Statement {
  return statementFromJSON(parseJson(payload, 'in-toto statement', 'STATEMENT_MALFORMED'));
}

export function makeStatement(subjects: Subject[], predicateType: string, predicate: unknown): Record<string, unknown> {
  if (subjects.length === 0) throw new SigilError('STATEMENT_MALFORMED', 'a statement needs at least one subject');
  return { _type: STATEMENT_V1, subject: subjects.map((s) => ({ name: s.name, digest: s.digest })), predicateType, predicate };
}

/** The digest algorithms (among those sigil computes) that the statement's subjects use. */
export function subjectAlgorithms(st: Statement): DigestAlgorithm[] {
  const out = new Set<DigestAlgorithm>();
  for (const s of st.subjects) for (const alg of ['sha256', 'sha384', 'sha512'] as const) if (s.digest[alg] !== undefined) out.add(alg);
  return [...out];
}

/** The first subject whose digest under `alg` equals `hex`, or undefined. */
export function findSubject(st: Statement, alg: DigestAlgorithm, value: Uint8Array): Subject | undefined {
  const hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  return st.subjects.find((s) => s.digest[alg] === hex);
}
