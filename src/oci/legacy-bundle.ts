/**
 * cosign's tag-scheme signatures carry their verification material in layer annotations instead
 * of a bundle. This module turns one `.sig` or `.att` layer into the equivalent Sigstore bundle
 * (v0.1: the format whose log entries carry only a signed entry timestamp, which is all cosign's
 * `dev.sigstore.cosign/bundle` annotation holds), so the one verification pipeline (src/verify)
 * checks it like any other bundle, as sigstore-go and cosign v3 do for legacy signatures.
 *
 * The other direction (annotations for a layer we write) is here too, so both stay in step:
 *   dev.cosignproject.cosign/signature   base64 signature over the layer bytes (empty for `.att`)
 *   dev.sigstore.cosign/certificate      PEM signing certificate (keyless)
 *   dev.sigstore.cosign/chain            PEM intermediates and root
 *   dev.sigstore.cosign/bundle           {"SignedEntryTimestamp","Payload":{body,integratedTime,logIndex,logID}}
 *   dev.sigstore.cosign/rfc3161timestamp {"SignedRFC3161Timestamp"}
 * sigil adds one annotation cosign ignores, `dev.sigil/bundle`: the complete v0.3 bundle of the
 * same signature. cosign's bundle annotation can only hold a Rekor v1 signed entry timestamp; a
 * Rekor v2 (tiles) entry is proven by an inclusion proof and checkpoint, which only a bundle
 * carries. When present, sigil verifies that bundle (over the same layer bytes) instead.
 */
import { SigilError } from '../core/errors.js';
import { isObject, parseJson } from '../core/json.js';
import { digest as hashBytes, sha256 } from '../core/digest.js';
import { decodePemBlocks, encodePem } from '../core/pem.js';
import { fromBase64, fromHex, toBase64 } from '../core/encoding.js';
import { bundleFromJSON, bundleToJSON, certificateMaterial, digestAlgorithmOf, parseBundle, type ParsedBundle, type ValidBundle } from '../formats/bundle.js';
import { ANNOTATION_BUNDLE, ANNOTATION_CERTIFICATE, ANNOTATION_CHAIN, ANNOTATION_RFC3161, ANNOTATION_SIGIL_BUNDLE, ANNOTATION_SIGNATURE, DSSE_ENVELOPE } from './media-types.js';

const V01 = 'application/vnd.dev.sigstore.bundle+json;version=0.1';

function bad(what: string, why: string): never {
  throw new SigilError('BUNDLE_MALFORMED', `${what}: ${why}`, { hint: 'the signature layer annotations are not what cosign writes; the signature may be tampered with' });
}

/** The Rekor entry in cosign's bundle annotation, as a protobuf-JSON tlog entry (with its SET). */
function tlogEntryFromAnnotation(text: string, what: string): Record<string, unknown> {
  const doc = parseJson(text, `${what} ${ANNOTATION_BUNDLE}`, 'BUNDLE_MALFORMED');
  if (!isObject(doc) || typeof doc.SignedEntryTimestamp !== 'string' || !isObject(doc.Payload)) bad(what, `${ANNOTATION_BUNDLE} must hold SignedEntryTimestamp and Payload`);
  const p = doc.Payload;
  if (typeof p.body !== 'string' || typeof p.logID !== 'string') bad(what, `${ANNOTATION_BUNDLE} Payload needs body and logID`);
  for (const k of ['integratedTime', 'logIndex'] as const) {
    if (typeof p[k] !== 'number' || !Number.isSafeInteger(p[k]) || (p[k] as number) < 0) bad(what, `${ANNOTATION_BUNDLE} Payload.${k} must be a non-negative integer`);
  }
  const body = fromBase64(p.body, `${what} Rekor entry body`);
  const entry = parseJson(body, `${what} Rekor entry body`, 'BUNDLE_MALFORMED');
  if (!isObject(entry) || typeof entry.kind !== 'string' || typeof entry.apiVersion !== 'string') bad(what, 'the Rekor entry body has no kind/apiVersion');
  return {
    logIndex: String(p.logIndex),
    logId: { keyId: toBase64(fromHex(p.logID, `${what} logID`)) },
    kindVersion: { kind: entry.kind, version: entry.apiVersion },
    integratedTime: String(p.integratedTime),
    inclusionPromise: { signedEntryTimestamp: toBase64(fromBase64(doc.SignedEntryTimestamp, `${what} SignedEntryTimestamp`)) },
    canonicalizedBody: toBase64(body),
  };
}

function certificates(annotations: Record<string, string>, what: string): string[] | undefined {
  const leaf = annotations[ANNOTATION_CERTIFICATE];
  if (!leaf) return undefined;
  const blocks = [...decodePemBlocks(leaf), ...(annotations[ANNOTATION_CHAIN] ? decodePemBlocks(annotations[ANNOTATION_CHAIN]) : [])];
  if (blocks.length === 0 || blocks.some((b) => b.label !== 'CERTIFICATE')) bad(what, 'certificate annotations must hold PEM CERTIFICATE blocks');
  return blocks.map((b) => toBase64(b.der));
}

/**
 * The bundle equivalent to a tag-scheme layer: `data` is the layer blob (the simple-signing
 * payload of a `.sig`, the DSSE envelope of an `.att`), `annotations` its descriptor's.
 */
export function legacyLayerToBundle(layer: { mediaType: string; annotations?: Record<string, string> }, data: Buffer, what: string): ParsedBundle {
  const ann = layer.annotations ?? {};
  if (ann[ANNOTATION_SIGIL_BUNDLE]) return embeddedBundle(ann[ANNOTATION_SIGIL_BUNDLE], layer.mediaType, data, what);
  const certs = certificates(ann, what);
  const material: Record<string, unknown> = certs
    ? { x509CertificateChain: { certificates: certs.map((rawBytes) => ({ rawBytes })) } }
    : { publicKey: { hint: '' } };
  const tlog = ann[ANNOTATION_BUNDLE] ? [tlogEntryFromAnnotation(ann[ANNOTATION_BUNDLE], what)] : [];
  const vm: Record<string, unknown> = { ...material, tlogEntries: tlog };
  if (ann[ANNOTATION_RFC3161]) {
    const ts = parseJson(ann[ANNOTATION_RFC3161], `${what} ${ANNOTATION_RFC3161}`, 'BUNDLE_MALFORMED');
    if (!isObject(ts) || typeof ts.SignedRFC3161Timestamp !== 'string') bad(what, `${ANNOTATION_RFC3161} must hold SignedRFC3161Timestamp`);
    vm.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp: ts.SignedRFC3161Timestamp }] };
  }
  let content: Record<string, unknown>;
  if (layer.mediaType === DSSE_ENVELOPE) {
    content = { dsseEnvelope: parseJson(data, `${what} DSSE envelope`, 'BUNDLE_MALFORMED') };
  } else {
    const sig = ann[ANNOTATION_SIGNATURE];
    if (!sig) bad(what, `${ANNOTATION_SIGNATURE} is missing or empty`);
    content = { messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: toBase64(sha256(data)) }, signature: toBase64(fromBase64(sig, `${what} signature`)) } };
  }
  return bundleFromJSON({ mediaType: V01, verificationMaterial: vm, ...content });
}

/**
 * The embedded v0.3 bundle. It must be about this very layer: a message signature over these
 * bytes (checked again by the verifier), or the DSSE envelope the layer holds — so a bundle for
 * other content cannot ride along in the annotation of a layer it does not describe.
 */
function embeddedBundle(text: string, mediaType: string, data: Buffer, what: string): ParsedBundle {
  const b = parseBundle(text);
  const c = b.bundle.content;
  if (mediaType === DSSE_ENVELOPE) {
    if (c.$case !== 'dsseEnvelope') bad(what, `${ANNOTATION_SIGIL_BUNDLE} is not a DSSE bundle`);
    const env = parseJson(data, `${what} DSSE envelope`, 'BUNDLE_MALFORMED');
    const payload = isObject(env) && typeof env.payload === 'string' ? fromBase64(env.payload, `${what} payload`) : undefined;
    if (!payload || !payload.equals(c.dsseEnvelope.payload)) bad(what, `${ANNOTATION_SIGIL_BUNDLE} signs another envelope than the layer holds`);
  } else if (
    c.$case !== 'messageSignature' ||
    !c.messageSignature.messageDigest ||
    !hashBytes(digestAlgorithmOf(c.messageSignature.messageDigest.algorithm), data).equals(c.messageSignature.messageDigest.digest)
  ) {
    bad(what, `${ANNOTATION_SIGIL_BUNDLE} is not a message signature over this layer`);
  }
  return b;
}

/**
 * Annotations for a tag-scheme layer from the bundle that signed it. The log entry goes in only
 * when it has a signed entry timestamp (Rekor v1); a Rekor v2 entry has none, and cosign's
 * annotation cannot carry an inclusion proof, so such signatures live fully only in the referrer.
 */
export function layerAnnotationsFromBundle(b: ValidBundle, kind: 'sig' | 'att', chain?: Buffer[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (kind === 'sig') {
    if (b.content.$case !== 'messageSignature') throw new SigilError('INTERNAL', 'a .sig layer needs a message-signature bundle');
    out[ANNOTATION_SIGNATURE] = toBase64(b.content.messageSignature.signature);
  } else {
    out[ANNOTATION_SIGNATURE] = '';
  }
  const certs = certificateMaterial(b);
  if (certs) {
    out[ANNOTATION_CERTIFICATE] = encodePem('CERTIFICATE', certs.leaf);
    out[ANNOTATION_CHAIN] = (chain ?? certs.chain).map((c) => encodePem('CERTIFICATE', c)).join('');
  }
  const e = b.verificationMaterial.tlogEntries.find((t) => t.inclusionPromise && t.integratedTime !== undefined);
  if (e) {
    out[ANNOTATION_BUNDLE] = JSON.stringify({
      SignedEntryTimestamp: toBase64(e.inclusionPromise!.signedEntryTimestamp),
      Payload: {
        body: toBase64(e.canonicalizedBody),
        integratedTime: Number(e.integratedTime),
        logIndex: Number(e.logIndex),
        logID: e.logId!.keyId.toString('hex'),
      },
    });
  }
  const ts = b.verificationMaterial.timestampVerificationData?.rfc3161Timestamps[0];
  if (ts) out[ANNOTATION_RFC3161] = JSON.stringify({ SignedRFC3161Timestamp: toBase64(ts.signedTimestamp) });
  out[ANNOTATION_SIGIL_BUNDLE] = JSON.stringify(bundleToJSON(b));
  return out;
}
