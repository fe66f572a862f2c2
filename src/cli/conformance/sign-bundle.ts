/**
 * sigstore-conformance `sign-bundle` (docs/cli_protocol.md):
 *   sign-bundle [--staging] [--in-toto] --identity-token TOKEN --bundle FILE [--trusted-root R] [--signing-config S] FILE
 * Keyless signing against the services the signing config names (default: Sigstore public-good,
 * or staging with --staging). FILE is the artifact, or with --in-toto an in-toto statement to sign
 * as DSSE. With --trusted-root the new bundle is verified against it before it is written, for
 * the identity the CA certified, so a stack that hands out unverifiable bundles fails here.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SigilError } from '../../core/errors.js';
import { writeFileAtomic } from '../../services/pki/key-store.js';
import { parseSigningConfig, SIGNING_CONFIG_MEDIA_TYPE, type SigningConfig } from '../../formats/signing-config.js';
import { parseStatement } from '../../formats/intoto.js';
import { beginKeyless, keylessAttestBlob, keylessSignBlob, servicesFromSigningConfig } from '../../sign/keyless.js';
import { TrustedRoot } from '../../trust/trusted-root.js';
import { verify } from '../../verify/verify.js';
import type { ArtifactInput } from '../../verify/types.js';
import { EXIT_OK, type Command } from '../command.js';

/** Sigstore's public signing configurations (protobuf-specs SigningConfig v0.2), for runs without --signing-config. */
function publicConfig(staging: boolean): SigningConfig {
  const host = staging ? 'sigstage.dev' : 'sigstore.dev';
  const svc = (url: string, majorApiVersion: number) => ({ url, majorApiVersion, validFor: { start: '2023-01-01T00:00:00Z' }, operator: host });
  return parseSigningConfig({
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: [svc(`https://fulcio.${host}`, 1)],
    oidcUrls: [svc(`https://oauth2.${host}/auth`, 1)],
    rekorTlogUrls: [svc(`https://rekor.${host}`, 1)],
    rekorTlogConfig: { selector: 'ANY' },
    tsaUrls: [svc(`https://timestamp.${host}/api/v1/timestamp`, 1)],
    tsaConfig: { selector: 'ANY' },
  });
}

function read(cwd: string, path: string, what: string): Buffer {
  try {
    return readFileSync(resolve(cwd, path));
  } catch (e) {
    throw new SigilError('INPUT_UNREADABLE', `cannot read ${what} ${path}: ${(e as Error).message}`, { cause: e });
  }
}

export const conformanceSignBundle: Command = {
  path: ['sign-bundle'],
  summary: 'keyless-sign a file (or an in-toto statement) into a bundle, as the sigstore-conformance suite drives it',
  args: 'FILE',
  flags: {
    staging: { type: 'boolean', description: 'use Sigstore staging (when no --signing-config is given)' },
    'in-toto': { type: 'boolean', description: 'FILE is an in-toto statement: sign it as DSSE' },
    'identity-token': { type: 'string', description: 'the OIDC identity token', value: 'TOKEN' },
    bundle: { type: 'string', description: 'where to write the bundle', value: 'FILE' },
    'trusted-root': { type: 'string', description: 'verify the new bundle against this trusted root', value: 'FILE' },
    'signing-config': { type: 'string', description: 'signing_config.json naming CA, log and TSA', value: 'FILE' },
  },
  async run(flags, positionals, io) {
    if (positionals.length !== 1) throw new SigilError('USAGE', `expected one FILE, got ${positionals.length}`);
    const token = typeof flags['identity-token'] === 'string' ? flags['identity-token'] : '';
    if (!token) throw new SigilError('USAGE', '--identity-token is required');
    const out = typeof flags.bundle === 'string' ? flags.bundle : '';
    if (!out) throw new SigilError('USAGE', '--bundle is required');
    const config =
      typeof flags['signing-config'] === 'string' ? parseSigningConfig(read(io.cwd, flags['signing-config'], 'signing config')) : publicConfig(flags.staging === true);
    const services = servicesFromSigningConfig(config);
    const session = await beginKeyless({ token, tokenSource: 'flag', caUrl: services.caUrl, ...(services.tlogs[0] ? { tlog: services.tlogs[0] } : {}), tsaUrls: services.tsaUrls });

    const input = read(io.cwd, positionals[0]!, 'file');
    let json: Record<string, unknown>;
    /** What the verification below checks the bundle against: the file, or the statement's first SHA-256 subject. */
    let artifact: ArtifactInput = { bytes: input };
    if (flags['in-toto'] === true) {
      const st = parseStatement(input);
      const subject = st.subjects.find((s) => s.digest.sha256 !== undefined);
      if (subject) artifact = { digest: { alg: 'sha256', value: Buffer.from(subject.digest.sha256!, 'hex') } };
      const result = await keylessAttestBlob(
        st.subjects.map((s) => ({ name: s.name, digest: s.digest })),
        { predicateType: st.predicateType, predicate: st.predicate },
        session,
      );
      json = result.json;
    } else {
      json = (await keylessSignBlob(input, session)).json;
    }

    if (typeof flags['trusted-root'] === 'string') {
      const root = TrustedRoot.parse(read(io.cwd, flags['trusted-root'], 'trusted root'));
      const identity = { subjectAlternativeName: { exact: session.identity.subjectAlternativeName }, ...(session.identity.issuer ? { issuer: { exact: session.identity.issuer } } : {}) };
      await verify(json, artifact, { identity }, { root });
    }
    writeFileAtomic(resolve(io.cwd, out), JSON.stringify(json) + '\n');
    return EXIT_OK;
  },
};
