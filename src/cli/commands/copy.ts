/**
 * `sigil copy SRC DST [--only-image]` (cosign copy): copies an image byte for byte — every
 * platform of an index — with its signatures, attestations and SBOMs under both storage schemes.
 * Digests do not change, so every signature stays valid at the destination.
 */
import { SigilError } from '../../core/errors.js';
import { EXIT_OK, type Command } from '../command.js';
import { outputFlag } from '../options.js';
import { copyImage } from '../../oci/copy.js';
import { formatReference } from '../../oci/reference.js';
import { parseImages, registryClient, registryFlags } from '../oci-common.js';

export const copyCommand: Command = {
  path: ['copy'],
  summary: 'copy an image with everything attached to it (signatures, attestations, SBOMs)',
  args: 'SRC DST',
  flags: {
    'only-image': { type: 'boolean', description: 'copy the image without its attachments' },
    ...registryFlags,
    ...outputFlag,
  },
  async run(flags, positionals, io) {
    if (positionals.length !== 2) throw new SigilError('USAGE', 'copy takes SRC and DST', { hint: 'sigil copy 127.0.0.1:5000/a/app:v1 127.0.0.1:5000/b/app:v1' });
    const [src, dst] = parseImages(positionals) as [ReturnType<typeof parseImages>[number], ReturnType<typeof parseImages>[number]];
    const client = registryClient(io, flags, [src, dst]);
    try {
      const r = await copyImage(client, src, dst, {
        attachments: flags['only-image'] !== true,
        ...(flags.output === 'json' ? {} : { onProgress: (m: string) => io.stderr.write(`${m}\n`) }),
      });
      const at = formatReference({ ...dst, digest: r.digest });
      if (flags.output === 'json') io.stdout.write(JSON.stringify({ source: formatReference(src), destination: at, ...r }, null, 2) + '\n');
      else {
        io.stdout.write(
          `Copied ${formatReference(src)} to ${at}: ${r.manifests} manifests, blobs ${r.blobs.uploaded} uploaded / ${r.blobs.mounted} mounted / ${r.blobs.existed} present; ` +
            `${r.attachments.referrers} referrers, ${r.attachments.tags.length} cosign tags\n`,
        );
      }
      return EXIT_OK;
    } finally {
      client.close();
    }
  },
};
