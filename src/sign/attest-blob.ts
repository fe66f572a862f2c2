/**
 * attest-blob: an in-toto Statement v1 about one or more subjects, signed as a DSSE envelope
 * (payloadType application/vnd.in-toto+json; the signature covers the PAE, never the bare
 * payload) and packed in a Sigstore bundle v0.3, with a dsse log entry when a log is configured.
 * Only the artifact's digest is needed, so large artifacts are never loaded into memory.
 */
import { SigilError } from '../core/errors.js';
import { pae } from '../core/pae.js';
import { BUNDLE_V03_MEDIA_TYPE } from '../formats/bundle.js';
import { INTOTO_PAYLOAD_TYPE, type DsseEnvelope } from '../formats/dsse.js';
import { makeStatement, type Subject } from '../formats/intoto.js';
import { finish, signChecked, tlogEntryFromJSON, verificationMaterial, type ProducedBundle, type ProducerOptions } from './bundle-material.js';

export interface AttestOptions extends ProducerOptions {
  /** Predicate type URI (formats/predicate-types.ts maps cosign's --type names). */
  predicateType: string;
  /** The predicate: any JSON value; SLSA, SPDX, CycloneDX predicates are objects. */
  predicate: unknown;
}

export interface AttestResult extends ProducedBundle {
  statement: Record<string, unknown>;
  envelope: DsseEnvelope;
}

/** Subjects carry lowercase hex digests (in-toto DigestSet); at least one subject is required. */
export async function attestBlob(subjects: Subject[], opts: AttestOptions): Promise<AttestResult> {
  if (opts.predicate === undefined) {
    throw new SigilError('STATEMENT_MALFORMED', 'an attestation needs a predicate', { hint: 'pass --predicate FILE with a JSON document' });
  }
  const statement = makeStatement(subjects, opts.predicateType, opts.predicate);
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const sig = await signChecked(opts.signer, pae(INTOTO_PAYLOAD_TYPE, payload));
  // keyid stays empty as cosign and sigstore-js write it: the bundle's verification material names the key.
  const envelope: DsseEnvelope = { payloadType: INTOTO_PAYLOAD_TYPE, payload, signatures: [{ sig, keyid: '' }] };
  const tlogEntries = opts.tlog
    ? [
        tlogEntryFromJSON(
          await opts.tlog.upload('dsse', { envelope, publicKey: opts.signer.publicKey, ...(opts.certificate ? { certificate: opts.certificate } : {}) }),
        ),
      ]
    : [];
  const produced = finish({
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: verificationMaterial(opts, tlogEntries),
    content: { $case: 'dsseEnvelope', dsseEnvelope: envelope },
  });
  return { ...produced, statement, envelope };
}
