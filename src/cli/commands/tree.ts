/**
 * `sigil tree IMAGE` (cosign tree): what is attached to an image, under each storage scheme —
 * OCI 1.1 referrers (through the API or the referrers tag schema) and cosign's
 * `sha256-<hex>.sig/.att/.sbom` tags — with kinds, artifact and predicate types and digests.
 * It lists, it does not verify: use `sigil verify` for that.
 */
import { EXIT_OK, type Command } from '../command.js';
import { outputFlag } from '../options.js';
import { discoverAttachments } from '../../oci/attachments.js';
import { referrersTag } from '../../oci/client.js';
import { formatReference, repositoryName, withDigest } from '../../oci/reference.js';
import { parseImages, registryClient, registryFlags, warnTag } from '../oci-common.js';
import { SigilError } from '../../core/errors.js';

export const treeCommand: Command = {
  path: ['tree'],
  summary: 'list the signatures, attestations and SBOMs attached to an image (both storage schemes)',
  args: 'IMAGE',
  flags: { ...registryFlags, ...outputFlag },
  async run(flags, positionals, io) {
    const images = parseImages(positionals);
    if (images.length !== 1) throw new SigilError('USAGE', 'tree takes one IMAGE');
    const client = registryClient(io, flags, images);
    try {
      const image = images[0]!;
      const head = await client.resolve(image);
      if (!image.digest) warnTag(io)(image.tag ?? 'latest', head.digest);
      const ref = withDigest(image, head.digest);
      const found = await discoverAttachments(client, ref, head.digest);
      if (flags.output === 'json') {
        io.stdout.write(
          JSON.stringify(
            {
              reference: formatReference(ref),
              digest: head.digest,
              mediaType: head.mediaType,
              referrers: {
                source: found.referrersSource,
                ...(found.referrersSource === 'tag-schema' ? { tag: referrersTag(head.digest) } : {}),
                manifests: found.referrers.map((r) => ({ kind: r.kind, ...r.descriptor, ...(r.predicateType ? { predicateType: r.predicateType } : {}) })),
              },
              tags: found.tags.map((t) => ({ kind: t.kind, tag: t.tag, digest: t.manifestDigest, layers: t.layers })),
            },
            null,
            2,
          ) + '\n',
        );
        return EXIT_OK;
      }
      const repo = repositoryName(ref);
      const lines = [`Attached to ${formatReference(ref)} (${head.mediaType})`];
      const via = found.referrersSource === 'api' ? 'referrers API' : `referrers tag ${repo}:${referrersTag(head.digest)}`;
      lines.push(`├── OCI referrers (${via}): ${found.referrers.length}`);
      found.referrers.forEach((r, i) => {
        const last = i === found.referrers.length - 1;
        const pt = r.predicateType ? `, predicate ${r.predicateType}` : '';
        lines.push(`│   ${last ? '└──' : '├──'} ${r.kind.padEnd(11)} ${r.descriptor.digest} (${r.descriptor.artifactType ?? 'no artifactType'}${pt})`);
      });
      const tagged = found.tags;
      lines.push(`└── cosign tags: ${tagged.length === 0 ? 'none' : ''}`);
      tagged.forEach((t, i) => {
        const lastTag = i === tagged.length - 1;
        lines.push(`    ${lastTag ? '└──' : '├──'} ${t.kind}s ${repo}:${t.tag} (${t.layers.length} layer${t.layers.length === 1 ? '' : 's'})`);
        t.layers.forEach((l, j) => {
          const pt = l.annotations?.predicateType ? `, predicate ${l.annotations.predicateType}` : '';
          const cert = l.annotations?.['dev.sigstore.cosign/certificate'] ? ', certificate' : '';
          const logged = l.annotations?.['dev.sigstore.cosign/bundle'] ? ', logged' : '';
          lines.push(`    ${lastTag ? ' ' : '│'}   ${j === t.layers.length - 1 ? '└──' : '├──'} ${l.digest} (${l.mediaType}${pt}${cert}${logged})`);
        });
      });
      io.stdout.write(lines.join('\n') + '\n');
      return EXIT_OK;
    } finally {
      client.close();
    }
  },
};
