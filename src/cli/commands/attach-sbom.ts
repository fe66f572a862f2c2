/**
 * `sigil attach sbom IMAGE --sbom FILE [--type spdx|cyclonedx] [--key K]`
 * Stores an SBOM as an OCI 1.1 referrer of the image (artifactType = the SBOM media type) and,
 * with the tag scheme, as cosign's `.sbom` tag. With --key it is also attested (predicate = the
 * SBOM), since an unsigned attachment only says that someone could push to the repository.
 */
import { SigilError } from '../../core/errors.js';
import { EXIT_OK, type Command } from '../command.js';
import { outputFlag } from '../options.js';
import { readInputFile } from '../files.js';
import { stringFlag } from '../signing-key.js';
import { attachSbom, resolveTargets } from '../../oci/sign-image.js';
import { CYCLONEDX_JSON, SPDX_JSON } from '../../oci/media-types.js';
import { parseImages, producerFlags, producerFromFlags, registryClient, registryFlags, tagSchemeFlags, tagSchemeMode, warnTag } from '../oci-common.js';

const KINDS = {
  spdx: { mediaType: SPDX_JSON, predicateType: 'https://spdx.dev/Document' },
  cyclonedx: { mediaType: CYCLONEDX_JSON, predicateType: 'https://cyclonedx.org/bom' },
} as const;

/** SPDX JSON has spdxVersion, CycloneDX JSON has bomFormat "CycloneDX" (their specs' required fields). */
export function detectSbomKind(data: Buffer, file: string): keyof typeof KINDS {
  let doc: unknown;
  try {
    doc = JSON.parse(data.toString('utf8'));
  } catch {
    throw new SigilError('INPUT_UNREADABLE', `SBOM ${file} is not JSON`, { hint: 'attach an SPDX JSON or CycloneDX JSON document, or pass --type' });
  }
  if (typeof doc === 'object' && doc !== null) {
    const o = doc as Record<string, unknown>;
    if (typeof o.spdxVersion === 'string') return 'spdx';
    if (o.bomFormat === 'CycloneDX') return 'cyclonedx';
  }
  throw new SigilError('INPUT_UNREADABLE', `SBOM ${file} is neither SPDX JSON (spdxVersion) nor CycloneDX JSON (bomFormat)`, { hint: 'pass --type spdx or --type cyclonedx' });
}

export const attachSbomCommand: Command = {
  path: ['attach', 'sbom'],
  summary: 'attach an SBOM to a container image (OCI referrer; signed as an attestation with --key or --keyless)',
  args: 'IMAGE',
  flags: {
    sbom: { type: 'string', description: 'the SBOM document (SPDX JSON or CycloneDX JSON)', value: 'FILE' },
    type: { type: 'string', description: 'spdx or cyclonedx (default: detected from the document)', value: 'TYPE' },
    ...producerFlags,
    ...tagSchemeFlags,
    ...registryFlags,
    ...outputFlag,
  },
  async run(flags, positionals, io) {
    const images = parseImages(positionals);
    if (images.length !== 1) throw new SigilError('USAGE', 'attach sbom takes one IMAGE', { hint: 'run it once per image' });
    const file = stringFlag(flags, 'sbom');
    if (!file) throw new SigilError('USAGE', '--sbom is required', { hint: 'pass the SBOM: --sbom bom.spdx.json' });
    const sbom = readInputFile(io, file, 'SBOM');
    const typeFlag = stringFlag(flags, 'type');
    if (typeFlag !== undefined && !(typeFlag in KINDS)) throw new SigilError('USAGE', `--type must be spdx or cyclonedx, got ${typeFlag}`);
    const kind = KINDS[(typeFlag as keyof typeof KINDS | undefined) ?? detectSbomKind(sbom, file)];
    const producer = stringFlag(flags, 'key') || flags.keyless === true ? await producerFromFlags(io, flags) : undefined;
    const client = registryClient(io, flags, images);
    try {
      const [t] = await resolveTargets(client, images[0]!, { onTag: warnTag(io) });
      const r = await attachSbom(client, t!, { sbom, ...kind, ...(producer ? { producer } : {}), tagScheme: tagSchemeMode(flags) });
      if (flags.output === 'json') {
        const { attestation, ...rest } = r;
        io.stdout.write(JSON.stringify({ ...rest, mediaType: kind.mediaType, ...(attestation ? { attestation: { referrer: attestation.referrer, tag: attestation.tag } } : {}) }, null, 2) + '\n');
      } else {
        io.stdout.write(`Attached ${kind.mediaType} SBOM to ${r.reference}\n  referrer ${r.referrer.digest}\n`);
        if (r.tag) io.stdout.write(`  cosign sbom ${r.tag.tag}\n`);
        if (r.attestation) io.stdout.write(`  attestation ${r.attestation.referrer.digest} (${kind.predicateType})\n`);
        else io.stderr.write('warning: the SBOM is not signed; pass --key or --keyless to attest it\n');
      }
      return EXIT_OK;
    } finally {
      client.close();
    }
  },
};
