/**
 * `sigil attest-blob --key K --predicate P.json --type T [--bundle OUT] FILE`: an in-toto
 * Statement v1 about FILE (subject = file name + SHA-256) with the predicate from P.json, signed
 * as DSSE in a Sigstore bundle v0.3, like `cosign attest-blob --new-bundle-format`. --type takes
 * cosign's names (slsaprovenance1, spdxjson, cyclonedx, openvex, …) or a predicate type URI.
 */
import { basename } from 'node:path';
import { SigilError } from '../../core/errors.js';
import { digestFileSync } from '../../core/digest.js';
import { isObject, parseJson } from '../../core/json.js';
import { predicateTypeUri, PREDICATE_TYPES } from '../../formats/predicate-types.js';
import { attestBlob } from '../../sign/attest-blob.js';
import { keylessAttestBlob } from '../../sign/keyless.js';
import { keylessFlags, keylessSessionFromFlags } from '../keyless-options.js';
import { EXIT_OK, type Command } from '../command.js';
import { keyFlag, outputFlag, tlogUploadFlags } from '../options.js';
import { readInputFile, resolveIn, writeBundleOutput } from '../files.js';
import { loadSigner, requireFlag, stringFlag, tlogFromFlags } from '../signing-key.js';
import { onePositional } from './sign-blob.js';

export const attestBlobCommand: Command = {
  path: ['attest-blob'],
  summary: 'attest a file: in-toto statement with a predicate, signed as DSSE in a Sigstore bundle (v0.3)',
  args: 'FILE',
  flags: {
    ...keyFlag,
    predicate: { type: 'string', description: 'JSON file with the predicate', value: 'FILE' },
    type: { type: 'string', description: `predicate type: ${Object.keys(PREDICATE_TYPES).join('|')} or a URI`, value: 'TYPE', default: 'custom' },
    bundle: { type: 'string', description: 'where to write the bundle (default: FILE.intoto.sigstore.json; - for stdout)', value: 'FILE' },
    ...tlogUploadFlags,
    ...keylessFlags,
    ...outputFlag,
  },
  details: 'The key password comes from SIGIL_PASSWORD (or COSIGN_PASSWORD), else it is asked for on the terminal.',
  async run(flags, positionals, io) {
    const keyless = flags.keyless === true;
    const keyPath = keyless ? '' : requireFlag(flags, 'key', 'pass the private key: --key cosign.key (create one with sigil generate-key-pair), or sign with --keyless');
    const predicatePath = requireFlag(flags, 'predicate', 'pass the predicate document: --predicate provenance.json');
    const predicateType = predicateTypeUri(stringFlag(flags, 'type') ?? 'custom');
    const file = onePositional(positionals, 'the file to attest');
    const predicate = parseJson(readInputFile(io, predicatePath, 'predicate'), `predicate ${predicatePath}`);
    if (!isObject(predicate)) {
      throw new SigilError('STATEMENT_MALFORMED', `predicate ${predicatePath} must be a JSON object`, { hint: 'in-toto predicates are JSON objects (in-toto attestation spec v1)' });
    }
    const { sha256 } = digestFileSync(resolveIn(io, file), ['sha256']);
    const tlog = tlogFromFlags(flags);
    const session = keyless ? await keylessSessionFromFlags(io, flags) : undefined;
    const signer = session ? session.signer : await loadSigner(io, keyPath);
    const subjects = [{ name: basename(file), digest: { sha256: sha256.toString('hex') } }];
    const result = session ? await keylessAttestBlob(subjects, { predicateType, predicate }, session) : await attestBlob(subjects, { signer, predicateType, predicate, ...(tlog ? { tlog } : {}) });
    const out = stringFlag(flags, 'bundle') ?? `${file}.intoto.sigstore.json`;
    const outPath = writeBundleOutput(io, out, result.json);
    if (outPath === undefined) return EXIT_OK;
    if (flags.output === 'json') {
      io.stdout.write(JSON.stringify({ bundle: outPath, artifact: file, predicateType, subject: { name: basename(file), digest: { sha256: sha256.toString('hex') } }, keyDetails: signer.keyDetails }) + '\n');
    } else {
      io.stdout.write(`Wrote attestation bundle to ${outPath}\n`);
    }
    return EXIT_OK;
  },
};
