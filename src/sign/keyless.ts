/**
 * Keyless signing (Sigstore's flow): an identity token → an ephemeral key → a short-lived
 * certificate from a Fulcio-compatible CA → the signature → a transparency-log entry → RFC 3161
 * timestamps over the signature → a bundle v0.3 carrying the certificate, the entry and the
 * timestamps. The private key lives in memory for the length of one signing and is never written.
 *
 * The bundle builders are sign-blob / attest-blob (src/sign); this module supplies the signer,
 * the certificate and the timestamps around them.
 */
import { Certificate } from '../x509/certificate.js';
import { SigilError } from '../core/errors.js';
import { generateKeyPair, type KeyAlgorithm } from '../crypto/keys.js';
import { LocalSigner } from '../crypto/local-signer.js';
import { selectService, selectServices, type SigningConfig } from '../formats/signing-config.js';
import type { Subject } from '../formats/intoto.js';
import { attestBlob, type AttestResult } from './attest-blob.js';
import { finish, type ProducedBundle } from './bundle-material.js';
import { requestSigningCertificate } from './keyless/ca-client.js';
import { challengeClaim, type TokenSource } from './keyless/token.js';
import { requestTimestamp } from './keyless/tsa-client.js';
import { LogClient } from './log-client.js';
import { signBlob, type SignBlobResult } from './sign-blob.js';
import type { TlogKind, TlogRequests, TlogUploader } from './tlog-uploader.js';

/** API versions this client speaks (signing config `majorApiVersion`). */
export const SUPPORTED_CA_API = [1];
export const SUPPORTED_TLOG_API = [1, 2];
export const SUPPORTED_TSA_API = [1];
export const SUPPORTED_OIDC_API = [1];

export interface KeylessServices {
  caUrl: string;
  oidcUrl: string | undefined;
  tlogs: { url: string; api: 'v1' | 'v2' }[];
  tsaUrls: string[];
}

/** Picks the services a signing config names, by its selection rules (formats/signing-config.ts). */
export function servicesFromSigningConfig(config: SigningConfig, at = new Date()): KeylessServices {
  const ca = selectService(config.caUrls, SUPPORTED_CA_API, at);
  if (!ca) throw new SigilError('SIGNING_CONFIG_MALFORMED', 'the signing config names no usable CA (API v1, valid now)', { hint: 'check caUrls in the signing config' });
  return {
    caUrl: ca.url,
    oidcUrl: selectService(config.oidcUrls, SUPPORTED_OIDC_API, at)?.url,
    tlogs: selectServices(config.rekorTlogUrls, config.rekorTlogConfig, SUPPORTED_TLOG_API, at).map((s) => ({ url: s.url, api: s.majorApiVersion === 2 ? 'v2' : 'v1' })),
    tsaUrls: selectServices(config.tsaUrls, config.tsaConfig, SUPPORTED_TSA_API, at).map((s) => s.url),
  };
}

export interface KeylessSession {
  signer: LocalSigner;
  /** DER of the leaf certificate. */
  certificate: Buffer;
  /** Leaf, intermediates, root (DER), as the CA returned them. */
  chain: Buffer[];
  identity: { subjectAlternativeName: string; issuer: string | undefined };
  tokenSource: TokenSource | undefined;
  tlog: TlogUploader | undefined;
  tsaUrls: string[];
}

export interface BeginOptions {
  token: string;
  tokenSource?: TokenSource;
  caUrl: string;
  tlog?: TlogUploader | { url: string; api: 'v1' | 'v2' };
  tsaUrls?: string[];
  /** Ephemeral key type; ECDSA P-256 as cosign and sigstore-js. */
  keyAlgorithm?: KeyAlgorithm;
}

/** Ephemeral key + certificate: everything before the signature. */
export async function beginKeyless(opts: BeginOptions): Promise<KeylessSession> {
  const { privateKey } = generateKeyPair(opts.keyAlgorithm ?? 'ecdsa-p256');
  const signer = new LocalSigner(privateKey);
  const pop = await signer.sign(Buffer.from(challengeClaim(opts.token), 'utf8'));
  const { chain } = await requestSigningCertificate(opts.caUrl, opts.token, signer.publicKey, pop);
  const leaf = Certificate.fromDer(chain[0]!, { cache: false });
  const san = leaf.subjectAlternativeNames()[0];
  if (!san) throw new SigilError('CERTIFICATE_INVALID', 'the CA returned a certificate without a subject alternative name', { kind: 'input' });
  const tlog = opts.tlog === undefined ? undefined : 'upload' in opts.tlog ? opts.tlog : new LogClient({ url: opts.tlog.url, api: opts.tlog.api });
  return {
    signer,
    certificate: chain[0]!,
    chain,
    identity: { subjectAlternativeName: san.value, issuer: leaf.fulcio().issuer },
    tokenSource: opts.tokenSource,
    tlog,
    tsaUrls: opts.tsaUrls ?? [],
  };
}

/** RFC 3161 timestamps over `signature` from every TSA (DER TimeStampResp each). */
function requestTimestamps(signature: Buffer, tsaUrls: string[]): Promise<Buffer[]> {
  return Promise.all(tsaUrls.map((u) => requestTimestamp(u, signature)));
}

/**
 * Wraps the log uploader so the timestamp request starts the moment the signature exists, in
 * parallel with the log write (sigstore-js runs its witnesses concurrently too): the timestamp
 * covers only the signature bytes, so neither depends on the other.
 */
class TimestampingUploader implements TlogUploader {
  pending: Promise<Buffer[]> | undefined;
  constructor(
    private readonly inner: TlogUploader,
    private readonly tsaUrls: string[],
  ) {}

  upload<K extends TlogKind>(kind: K, request: TlogRequests[K]): Promise<Record<string, unknown>> {
    const sig = kind === 'hashedrekord' ? (request as TlogRequests['hashedrekord']).signature : Buffer.from((request as TlogRequests['dsse']).envelope.signatures[0]!.sig);
    this.pending = requestTimestamps(sig, this.tsaUrls);
    // Attach a handler now; the rejection is reported where the timestamps are awaited.
    this.pending.catch(() => undefined);
    return this.inner.upload(kind, request);
  }
}

/** Puts RFC 3161 timestamps (DER TimeStampResp) into a produced bundle (protobuf-specs TimestampVerificationData). */
export function withTimestamps<T extends ProducedBundle>(produced: T, tokens: Buffer[]): T {
  if (tokens.length === 0) return produced;
  const bundle = {
    ...produced.bundle,
    verificationMaterial: { ...produced.bundle.verificationMaterial, timestampVerificationData: { rfc3161Timestamps: tokens.map((t) => ({ signedTimestamp: t })) } },
  };
  return { ...produced, ...finish(bundle) };
}

/** Adds RFC 3161 timestamps over `signature` to a produced bundle. */
export async function addTimestamps<T extends ProducedBundle>(produced: T, signature: Buffer, tsaUrls: string[]): Promise<T> {
  return withTimestamps(produced, await requestTimestamps(signature, tsaUrls));
}

function uploaderFor(session: KeylessSession): TimestampingUploader | undefined {
  return session.tlog && session.tsaUrls.length ? new TimestampingUploader(session.tlog, session.tsaUrls) : undefined;
}

export async function keylessSignBlob(artifact: Uint8Array, session: KeylessSession): Promise<SignBlobResult> {
  const wrapped = uploaderFor(session);
  const tlog = wrapped ?? session.tlog;
  const result = await signBlob(artifact, { signer: session.signer, certificate: session.certificate, ...(tlog ? { tlog } : {}) });
  return withTimestamps(result, wrapped?.pending ? await wrapped.pending : await requestTimestamps(result.signature, session.tsaUrls));
}

export async function keylessAttestBlob(subjects: Subject[], statement: { predicateType: string; predicate: unknown }, session: KeylessSession): Promise<AttestResult> {
  const wrapped = uploaderFor(session);
  const tlog = wrapped ?? session.tlog;
  const result = await attestBlob(subjects, { ...statement, signer: session.signer, certificate: session.certificate, ...(tlog ? { tlog } : {}) });
  const sig = Buffer.from(result.envelope.signatures[0]!.sig);
  return withTimestamps(result, wrapped?.pending ? await wrapped.pending : await requestTimestamps(sig, session.tsaUrls));
}
