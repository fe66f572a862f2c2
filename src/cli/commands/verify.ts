/**
 * `sigil verify IMAGE... (--key PUB | --certificate-identity ID --certificate-oidc-issuer URL) [-a k=v]`
 * and `sigil verify-attestation IMAGE... --type T ...` (cosign verify / verify-attestation).
 * Signatures are looked up under both schemes (OCI referrers and cosign tags), each one verified
 * in full; the verified payloads go to stdout (one JSON document per line, as cosign prints
 * them), the checks and any rejected signatures to stderr. Exit 1 when an image has none that
 * verifies ("no signatures found for <digest>" when it has none at all).
 */
import type { Command, Io, ParsedFlags } from '../command.js';
import { EXIT_OK } from '../command.js';
import { identityFlags, outputFlag, trustedRootFlag, verifyKeyFlag } from '../options.js';
import { extensionFlag, ignoreTlogFlag, loadTrust, policyFromFlags, resultToJson } from '../verify-inputs.js';
import { stringFlag } from '../signing-key.js';
import { predicateTypeUri } from '../../formats/predicate-types.js';
import { requireVerified, verifyImageAttestations, verifyImageSignatures, type ImageVerification } from '../../oci/verify-image.js';
import { formatReference } from '../../oci/reference.js';
import { AttachmentCache } from '../../oci/attachments.js';
import { annotationFlag, mapLimit, parseAnnotations, parseImages, registryClient, registryFlags, warnTag } from '../oci-common.js';
import type { VerificationResult } from '../../verify/types.js';

function who(r: VerificationResult): string {
  return r.signer.kind === 'certificate' ? `${r.signer.subjectAlternativeNames.join(', ')} (issuer ${r.signer.issuer ?? 'unknown'})` : `key ${r.signer.hint || '(the given public key)'}`;
}

function report(io: Io, flags: ParsedFlags, v: ImageVerification, what: 'signatures' | 'attestations'): void {
  const ref = formatReference(v.reference);
  if (flags.output !== 'json') {
    io.stderr.write(`\nVerification for ${ref} --\nThe following checks were performed on each of these ${what}:\n`);
    io.stderr.write(
      what === 'signatures'
        ? '  - the signed payload names this image digest (and the required annotations)\n'
        : '  - the in-toto statement names this image digest as a subject (and has the required predicate type)\n',
    );
    io.stderr.write(flags.key ? '  - the signature verifies with the given public key\n' : '  - the certificate chains to the trusted root and names the required identity and issuer\n');
    io.stderr.write(flags['insecure-ignore-tlog'] === true ? '  - transparency log: NOT required (--insecure-ignore-tlog)\n' : '  - the signature is recorded in a trusted transparency log\n');
    for (const ok of v.verified) {
      const logged = ok.result.tlogEntries.length ? `, log index ${ok.result.tlogEntries.map((e) => e.logIndex).join(',')}` : '';
      io.stderr.write(`  verified: ${ok.scheme} ${ok.source} signed by ${who(ok.result)}${logged}\n`);
    }
    for (const bad of v.rejected) io.stderr.write(`  rejected: ${bad.scheme} ${bad.source}: ${bad.error.toLine()}\n`);
    for (const ok of v.verified) io.stdout.write(JSON.stringify(ok.payload) + '\n');
  }
}

function toJson(v: ImageVerification): Record<string, unknown> {
  return {
    reference: formatReference(v.reference),
    digest: v.digest,
    verified: v.verified.map((x) => ({ scheme: x.scheme, source: x.source, ...resultToJson(x.result), payload: x.payload })),
    rejected: v.rejected.map((x) => ({ scheme: x.scheme, source: x.source, code: x.error.code, message: x.error.message })),
  };
}

function verifyCommandFor(kind: 'signatures' | 'attestations'): Command {
  const attest = kind === 'attestations';
  return {
    path: [attest ? 'verify-attestation' : 'verify'],
    summary: attest ? 'verify attestations attached to container images' : 'verify signatures of container images (OCI referrers and cosign .sig tags)',
    args: 'IMAGE...',
    flags: {
      ...verifyKeyFlag,
      ...identityFlags,
      ...extensionFlag,
      ...trustedRootFlag,
      ...ignoreTlogFlag,
      ...(attest
        ? { type: { type: 'string' as const, description: 'required predicate type (slsaprovenance1, spdxjson, cyclonedx, vuln, custom, ... or a URI); default: any', value: 'TYPE' } }
        : annotationFlag),
      ...registryFlags,
      ...outputFlag,
    },
    details: 'Every image must verify; the exit code is 1 when one does not. Identity regexps are searched unanchored, as in cosign.',
    async run(flags, positionals, io) {
      const images = parseImages(positionals);
      const policy = policyFromFlags(io, flags);
      const trust = loadTrust(io, flags);
      const annotations = attest ? {} : parseAnnotations(flags);
      const typeFlag = attest ? stringFlag(flags, 'type') : undefined;
      const predicateType = typeFlag ? predicateTypeUri(typeFlag) : undefined;
      const client = registryClient(io, flags, images);
      const cache = new AttachmentCache(60_000);
      try {
        const results = await mapLimit(images, 8, async (image) => {
          const resolved = image.digest ? image : { ...image, digest: (await client.resolve(image)).digest };
          if (!image.digest) warnTag(io)(image.tag ?? 'latest', resolved.digest!);
          return attest
            ? verifyImageAttestations(client, resolved, { policy, trust, cache, ...(predicateType ? { predicateType } : {}) })
            : verifyImageSignatures(client, resolved, { policy, trust, cache, annotations });
        });
        for (const v of results) report(io, flags, v, kind);
        if (flags.output === 'json') io.stdout.write(JSON.stringify({ images: results.map(toJson) }, null, 2) + '\n');
        for (const v of results) requireVerified(v, kind);
        return EXIT_OK;
      } finally {
        client.close();
      }
    },
  };
}

export const verifyCommand = verifyCommandFor('signatures');
export const verifyAttestationCommand = verifyCommandFor('attestations');
