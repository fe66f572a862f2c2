/**
 * `sigil attest IMAGE --predicate FILE --type T (--key K | --keyless) [--recursive] [--tag-scheme|--referrers-only]`
 * Wraps the predicate in an in-toto statement about the image digest, signs it as a DSSE bundle
 * and stores it as a referrer (and as a cosign `.att` layer where the tag scheme is used).
 */
import { SigilError } from '../../core/errors.js';
import { parseJson } from '../../core/json.js';
import { predicateTypeUri } from '../../formats/predicate-types.js';
import { EXIT_OK, type Command } from '../command.js';
import { outputFlag } from '../options.js';
import { readInputFile } from '../files.js';
import { stringFlag } from '../signing-key.js';
import { attestTarget, resolveTargets } from '../../oci/sign-image.js';
import { mapLimit, parseImages, producerFlags, producerFromFlags, registryClient, registryFlags, tagSchemeFlags, tagSchemeMode, warnTag } from '../oci-common.js';

export const attestCommand: Command = {
  path: ['attest'],
  summary: 'attest container images: sign an in-toto statement about the image digest',
  args: 'IMAGE...',
  flags: {
    predicate: { type: 'string', description: 'the predicate (a JSON document)', value: 'FILE' },
    type: { type: 'string', description: 'predicate type: slsaprovenance1, spdxjson, cyclonedx, vuln, openvex, custom, ... or a URI', value: 'TYPE', default: 'custom' },
    ...producerFlags,
    recursive: { type: 'boolean', description: 'for an image index, also attest every manifest it lists' },
    ...tagSchemeFlags,
    ...registryFlags,
    ...outputFlag,
  },
  async run(flags, positionals, io) {
    const images = parseImages(positionals);
    const predicatePath = stringFlag(flags, 'predicate');
    if (!predicatePath) throw new SigilError('USAGE', '--predicate is required', { hint: 'pass the predicate JSON: --predicate provenance.json' });
    const predicate = parseJson(readInputFile(io, predicatePath, 'predicate'), `predicate ${predicatePath}`);
    const predicateType = predicateTypeUri(stringFlag(flags, 'type') ?? 'custom');
    const tagScheme = tagSchemeMode(flags);
    const producer = await producerFromFlags(io, flags);
    const client = registryClient(io, flags, images);
    try {
      const targets = (await mapLimit(images, 8, (img) => resolveTargets(client, img, { recursive: flags.recursive === true, onTag: warnTag(io) }))).flat();
      const results = await mapLimit(targets, 8, (t) => attestTarget(client, t, { producer, predicateType, predicate, tagScheme }));
      if (flags.output === 'json') {
        io.stdout.write(JSON.stringify({ attested: results.map(({ statement: _s, ...r }) => ({ ...r, predicateType })) }, null, 2) + '\n');
      } else {
        for (const r of results) {
          io.stdout.write(`Attested ${r.reference} (${predicateType})\n  referrer ${r.referrer.digest} (${r.referrer.via === 'api' ? 'referrers API' : 'referrers tag schema'})\n`);
          if (r.tag) io.stdout.write(`  cosign attestation ${r.tag.tag}\n`);
        }
      }
      return EXIT_OK;
    } finally {
      client.close();
    }
  },
};
