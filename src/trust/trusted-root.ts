/**
 * `trusted_root.json` (protobuf-specs `dev.sigstore.trustroot.v1.TrustedRoot`): the CAs, the
 * transparency logs, the CT logs and the timestamp authorities a verifier trusts, each with the
 * time window in which it may vouch for anything.
 *
 * Everything is decoded here once: certificates into `Certificate`s, log keys into `KeyObject`s
 * indexed by log ID. Decoding an SPKI key costs ~115 µs and an X.509 parse ~130 µs on this machine
 * (../shared/LIMITS.md §1, §3), more than a P-256 verify, so doing it per bundle would cap
 * verification far below the crypto ceiling.
 *
 * Validity windows are closed intervals (sigstore_common.proto TimeRange). A window that is
 * present must have its start (conformance case trust-root-tlog-missing-validity-start_fail): a
 * missing start must not silently mean "since forever".
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SigilError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import { ProtoReader } from '../formats/proto-json.js';
import { Certificate } from '../x509/certificate.js';
import type { CertificateAuthority } from '../x509/chain.js';
import type { CtLogKey } from '../x509/sct.js';
import publicGoodJson from './data/public-good-trusted-root.json' with { type: 'json' };

export interface ValidityWindow {
  start: Date;
  end?: Date;
}

export type LogKeyDetails =
  | 'PKIX_ECDSA_P256_SHA_256'
  | 'PKIX_ECDSA_P384_SHA_384'
  | 'PKIX_ECDSA_P521_SHA_512'
  | 'PKIX_ED25519'
  | 'PKCS1_RSA_PKCS1V5'
  | 'PKIX_RSA_PKCS1V5'
  | 'PKIX_RSA_PKCS1V15_2048_SHA256'
  | 'PKIX_RSA_PKCS1V15_3072_SHA256'
  | 'PKIX_RSA_PKCS1V15_4096_SHA256';

const KEY_DETAILS: readonly LogKeyDetails[] = [
  'PKIX_ECDSA_P256_SHA_256',
  'PKIX_ECDSA_P384_SHA_384',
  'PKIX_ECDSA_P521_SHA_512',
  'PKIX_ED25519',
  'PKCS1_RSA_PKCS1V5',
  'PKIX_RSA_PKCS1V5',
  'PKIX_RSA_PKCS1V15_2048_SHA256',
  'PKIX_RSA_PKCS1V15_3072_SHA256',
  'PKIX_RSA_PKCS1V15_4096_SHA256',
];

/** A transparency log (Rekor v1 or v2) sigil trusts. */
export interface TlogKey {
  baseUrl: string;
  /** Host of baseUrl: the name Rekor signs its checkpoints under. */
  hostname: string;
  logId: Buffer;
  /** Rekor v2 logs may sign checkpoints under a different key ID. */
  checkpointKeyId?: Buffer;
  publicKey: KeyObject;
  keyDetails: LogKeyDetails;
  /** The node:crypto digest for this key (null for Ed25519, which hashes internally). */
  hash: 'sha256' | 'sha384' | 'sha512' | null;
  validFor: ValidityWindow;
}

export function withinWindow(w: ValidityWindow, at: Date): boolean {
  const t = at.getTime();
  return w.start.getTime() <= t && (w.end === undefined || t <= w.end.getTime());
}

const r: ProtoReader = new ProtoReader('TRUSTED_ROOT_MALFORMED');

export class TrustedRoot {
  readonly mediaType: string;
  readonly certificateAuthorities: CertificateAuthority[];
  readonly timestampAuthorities: CertificateAuthority[];
  readonly tlogs: TlogKey[];
  readonly ctlogs: CtLogKey[];
  /** The JSON this root came from, so worker threads can rebuild it without a file. */
  readonly source: unknown;
  private readonly tlogsById = new Map<string, TlogKey[]>();

  private constructor(json: unknown) {
    const o = r.object(json, 'trustedRoot');
    const mt = r.string(o.mediaType, 'trustedRoot.mediaType');
    if (!/^application\/vnd\.dev\.sigstore\.trustedroot(\+json;version=0\.[12]|\.v0\.[12]\+json)$/.test(mt)) {
      throw new SigilError('TRUSTED_ROOT_MALFORMED', `unsupported trusted root media type ${JSON.stringify(mt.slice(0, 100))}`, {
        hint: 'pass a Sigstore trusted_root.json (application/vnd.dev.sigstore.trustedroot+json;version=0.1)',
      });
    }
    this.mediaType = mt;
    this.source = json;
    this.certificateAuthorities = r.array(o.certificateAuthorities, 'trustedRoot.certificateAuthorities').map((c, i) => readAuthority(c, `trustedRoot.certificateAuthorities[${i}]`));
    this.timestampAuthorities = r.array(o.timestampAuthorities, 'trustedRoot.timestampAuthorities').map((c, i) => readAuthority(c, `trustedRoot.timestampAuthorities[${i}]`));
    this.tlogs = r
      .array(o.tlogs, 'trustedRoot.tlogs')
      .map((t, i) => readLog(t, `trustedRoot.tlogs[${i}]`))
      .filter((t): t is TlogKey => t !== undefined);
    this.ctlogs = r
      .array(o.ctlogs, 'trustedRoot.ctlogs')
      .map((t, i) => readLog(t, `trustedRoot.ctlogs[${i}]`))
      .filter((t): t is TlogKey => t !== undefined)
      .map((t) => ({ logId: t.logId, publicKey: t.publicKey, validFor: t.validFor }));
    for (const t of this.tlogs) {
      for (const id of [t.logId, t.checkpointKeyId]) {
        if (!id) continue;
        const k = id.toString('hex');
        const list = this.tlogsById.get(k) ?? [];
        if (!list.includes(t)) list.push(t);
        this.tlogsById.set(k, list);
      }
    }
  }

  static fromJSON(json: unknown): TrustedRoot {
    return new TrustedRoot(json);
  }

  static parse(text: string | Uint8Array): TrustedRoot {
    return new TrustedRoot(parseJson(text, 'trusted root', 'TRUSTED_ROOT_MALFORMED'));
  }

  static fromFile(path: string): TrustedRoot {
    let text: Buffer;
    try {
      text = readFileSync(path);
    } catch (e) {
      throw new SigilError('INPUT_UNREADABLE', `cannot read trusted root ${path}: ${(e as Error).message}`, { cause: e });
    }
    return TrustedRoot.parse(text);
  }

  private static publicGoodRoot: TrustedRoot | undefined;

  /** Sigstore's production public-good root shipped with sigil (decoded once per process). */
  static publicGood(): TrustedRoot {
    return (TrustedRoot.publicGoodRoot ??= new TrustedRoot(publicGoodJson));
  }

  /** Logs whose log ID (or checkpoint key ID) equals `logId`. */
  tlogsFor(logId: Uint8Array): TlogKey[] {
    return this.tlogsById.get(Buffer.from(logId.buffer, logId.byteOffset, logId.byteLength).toString('hex')) ?? [];
  }
}

function readWindow(v: unknown, path: string, required: boolean): ValidityWindow {
  const o = r.optObject(v, path);
  if (!o) {
    if (required) r.fail(path, 'is missing');
    // A log key without a window is valid at all times (sigstore_common.proto: PublicKey.valid_for is optional).
    return { start: new Date(0) };
  }
  if (o.start === undefined || o.start === null) r.fail(`${path}.start`, 'is missing', 'a validity window must say when it starts');
  const start = r.timestamp(o.start, `${path}.start`);
  const end = o.end === undefined || o.end === null ? undefined : r.timestamp(o.end, `${path}.end`);
  if (end && end.getTime() < start.getTime()) r.fail(path, 'ends before it starts');
  return end ? { start, end } : { start };
}

function readAuthority(v: unknown, path: string): CertificateAuthority {
  const o = r.object(v, path);
  const chain = r.object(o.certChain, `${path}.certChain`);
  const certs = r.array(chain.certificates, `${path}.certChain.certificates`);
  if (certs.length === 0) r.fail(`${path}.certChain.certificates`, 'is empty');
  const certChain = certs.map((c, i) => {
    const p = `${path}.certChain.certificates[${i}]`;
    const der = r.nonEmptyBytes(r.object(c, p).rawBytes, `${p}.rawBytes`);
    try {
      return Certificate.fromDer(der);
    } catch (e) {
      throw new SigilError('TRUSTED_ROOT_MALFORMED', `${p} is not a valid certificate: ${(e as Error).message}`, { cause: e });
    }
  });
  return { certChain, validFor: readWindow(o.validFor, `${path}.validFor`, true) };
}

function hashFor(d: LogKeyDetails): TlogKey['hash'] {
  if (d === 'PKIX_ED25519') return null;
  if (d === 'PKIX_ECDSA_P384_SHA_384') return 'sha384';
  if (d === 'PKIX_ECDSA_P521_SHA_512') return 'sha512';
  return 'sha256';
}

/** Returns undefined for a key type sigil cannot use (e.g. LMS, ML-DSA): such a log can vouch for nothing, which fails closed. */
function readLog(v: unknown, path: string): TlogKey | undefined {
  const o = r.object(v, path);
  const baseUrl = r.optString(o.baseUrl, `${path}.baseUrl`);
  const pk = r.object(o.publicKey, `${path}.publicKey`);
  const validFor = readWindow(pk.validFor, `${path}.publicKey.validFor`, false);
  const detailsName = r.string(pk.keyDetails, `${path}.publicKey.keyDetails`);
  const logId = r.nonEmptyBytes(r.object(o.logId, `${path}.logId`).keyId, `${path}.logId.keyId`);
  const ck = r.optObject(o.checkpointKeyId, `${path}.checkpointKeyId`);
  const checkpointKeyId = ck ? r.nonEmptyBytes(ck.keyId, `${path}.checkpointKeyId.keyId`) : undefined;
  if (!(KEY_DETAILS as readonly string[]).includes(detailsName)) return undefined;
  const keyDetails = detailsName as LogKeyDetails;
  const raw = r.nonEmptyBytes(pk.rawBytes, `${path}.publicKey.rawBytes`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: raw, format: 'der', type: keyDetails === 'PKCS1_RSA_PKCS1V5' ? 'pkcs1' : 'spki' });
  } catch (e) {
    throw new SigilError('TRUSTED_ROOT_MALFORMED', `${path}.publicKey.rawBytes is not a valid ${keyDetails} key: ${(e as Error).message}`, { cause: e });
  }
  let hostname = '';
  if (baseUrl) {
    try {
      hostname = new URL(baseUrl).host;
    } catch {
      r.fail(`${path}.baseUrl`, `is not a URL: ${JSON.stringify(baseUrl.slice(0, 100))}`);
    }
  }
  return { baseUrl, hostname, logId, ...(checkpointKeyId ? { checkpointKeyId } : {}), publicKey, keyDetails, hash: hashFor(keyDetails), validFor };
}
