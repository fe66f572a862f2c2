/**
 * `sigil sign IMAGE... (--key K | --keyless) [--recursive] [-a key=value] [--tag-scheme|--referrers-only]`
 * Signs each image's manifest digest (cosign sign): a Sigstore bundle v0.3 stored as an OCI 1.1
 * referrer and, where the registry has no referrers API (or with --tag-scheme), a cosign `.sig`.
 * All images share one signer, one transparency-log client and one registry connection pool.
 */
import { EXIT_OK, type Command } from '../command.js';
import { outputFlag } from '../options.js';
import { resolveTargets, signTarget, type SignResult } from '../../oci/sign-image.js';
import { annotationFlag, mapLimit, parseAnnotations, parseImages, producerFlags, producerFromFlags, registryClient, registryFlags, tagSchemeFlags, tagSchemeMode, warnTag } from '../oci-common.js';

export const signCommand: Command = {
  path: ['sign'],
  summary: 'sign container images in a registry (OCI referrers and cosign .sig tags)',
  args: 'IMAGE...',
  flags: {
    ...producerFlags,
    recursive: { type: 'boolean', description: 'for an image index, also sign every manifest it lists' },
    ...annotationFlag,
    ...tagSchemeFlags,
    ...registryFlags,
    ...outputFlag,
  },
  details:
    'IMAGE is [HOST[:PORT]/]REPO[:TAG][@sha256:DIGEST]; a tag is resolved once and the digest is signed.\n' +
    'Several images may be given: they are signed with the same key (or certificate) over one connection pool.',
  async run(flags, positionals, io) {
    const images = parseImages(positionals);
    const annotations = parseAnnotations(flags);
    const tagScheme = tagSchemeMode(flags);
    const producer = await producerFromFlags(io, flags);
    const client = registryClient(io, flags, images);
    try {
      const targets = (await mapLimit(images, 8, (img) => resolveTargets(client, img, { recursive: flags.recursive === true, onTag: warnTag(io) }))).flat();
      const results: SignResult[] = await mapLimit(targets, 8, (t) => signTarget(client, t, { producer, annotations, tagScheme }));
      if (flags.output === 'json') {
        io.stdout.write(JSON.stringify({ signed: results }, null, 2) + '\n');
      } else {
        for (const r of results) {
          io.stdout.write(`Signed ${r.reference}\n  referrer ${r.referrer.digest} (${r.referrer.via === 'api' ? 'referrers API' : 'referrers tag schema'})\n`);
          if (r.tag) io.stdout.write(`  cosign signature ${r.tag.tag}\n`);
        }
      }
      return EXIT_OK;
    } finally {
      client.close();
    }
  },
};
