/**
 * `sigil triangulate IMAGE [--type signature|attestation|sbom|referrers|digest]` (cosign
 * triangulate): prints where an attachment of the image is (or would be) stored, as a reference:
 * cosign's `sha256-<hex>.sig/.att/.sbom` tags, the referrers tag-schema index, or the digest.
 * A tag is resolved to its digest first (one HEAD request); a digest reference needs no network.
 */
import { SigilError } from '../../core/errors.js';
import { EXIT_OK, type Command } from '../command.js';
import { referrersTag } from '../../oci/client.js';
import { attachmentTag } from '../../oci/tag-scheme.js';
import { repositoryName } from '../../oci/reference.js';
import { stringFlag } from '../signing-key.js';
import { parseImages, registryClient, registryFlags } from '../oci-common.js';

const TYPES = ['signature', 'attestation', 'sbom', 'referrers', 'digest'] as const;
type TriangulateType = (typeof TYPES)[number];

export const triangulateCommand: Command = {
  path: ['triangulate'],
  summary: 'print where the signature (or attestation, SBOM, referrers index) of an image is stored',
  args: 'IMAGE',
  flags: {
    type: { type: 'string', description: `what to locate: ${TYPES.join(', ')}`, value: 'TYPE', default: 'signature' },
    ...registryFlags,
  },
  async run(flags, positionals, io) {
    const images = parseImages(positionals);
    if (images.length !== 1) throw new SigilError('USAGE', 'triangulate takes one IMAGE');
    const type = stringFlag(flags, 'type') ?? 'signature';
    if (!(TYPES as readonly string[]).includes(type)) throw new SigilError('USAGE', `--type must be one of ${TYPES.join(', ')}`);
    const image = images[0]!;
    let digest = image.digest;
    if (!digest) {
      const client = registryClient(io, flags, images);
      try {
        digest = (await client.resolve(image)).digest;
      } finally {
        client.close();
      }
    }
    const repo = repositoryName(image);
    const where: Record<TriangulateType, string> = {
      signature: `${repo}:${attachmentTag(digest, 'sig')}`,
      attestation: `${repo}:${attachmentTag(digest, 'att')}`,
      sbom: `${repo}:${attachmentTag(digest, 'sbom')}`,
      referrers: `${repo}:${referrersTag(digest)}`,
      digest: `${repo}@${digest}`,
    };
    io.stdout.write(where[type as TriangulateType] + '\n');
    return EXIT_OK;
  },
};
