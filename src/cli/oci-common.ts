/**
 * What the image commands (sign, attest, attach sbom, verify, verify-attestation, tree, copy,
 * triangulate) share: registry flags, building the RegistryClient from them, `-a key=value`
 * annotations, the tag-scheme switch, the producer (key, transparency log) and warnings.
 */
import { SigilError } from '../core/errors.js';
import { RegistryClient } from '../oci/client.js';
import { parseReference, type ImageReference } from '../oci/reference.js';
import type { ImageProducer, TagSchemeMode } from '../oci/sign-image.js';
import { keylessSessionFromFlags } from './keyless-options.js';
import type { Io, ParsedFlags } from './command.js';
import { loadSigner, stringFlag, tlogFromFlags } from './signing-key.js';

export { registryFlags, annotationFlag, tagSchemeFlags, producerFlags } from './oci-flags.js';

function list(flags: ParsedFlags, name: string): string[] {
  const v = flags[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function parseAnnotations(flags: ParsedFlags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list(flags, 'annotations')) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new SigilError('USAGE', `annotation ${JSON.stringify(item)} is not KEY=VALUE`, { hint: 'write -a key=value' });
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export function tagSchemeMode(flags: ParsedFlags): TagSchemeMode {
  if (flags['tag-scheme'] === true && flags['referrers-only'] === true) {
    throw new SigilError('USAGE', '--tag-scheme and --referrers-only contradict each other', { hint: 'pass one of them' });
  }
  return flags['tag-scheme'] === true ? 'always' : flags['referrers-only'] === true ? 'never' : 'auto';
}

export function parseImages(positionals: string[], what = 'IMAGE'): ImageReference[] {
  if (positionals.length === 0) throw new SigilError('USAGE', `${what} is missing`, { hint: 'pass an image reference such as 127.0.0.1:5000/team/app:v1' });
  return positionals.map(parseReference);
}

/** One client per command run: one connection pool and one token cache for every image it touches. */
export function registryClient(io: Io, flags: ParsedFlags, images: ImageReference[], extra: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}): RegistryClient {
  const t = Number(stringFlag(flags, 'registry-timeout') ?? '30');
  if (!Number.isFinite(t) || t <= 0) throw new SigilError('USAGE', '--registry-timeout must be a positive number of seconds');
  return new RegistryClient({
    env: io.env,
    timeoutMs: t * 1000,
    insecureRegistries: flags['allow-insecure-registry'] === true ? images.map((i) => i.registry) : [],
    onRetry: (r) => io.stderr.write(`warning: ${r.method} ${r.url}: ${r.reason}; retry ${r.attempt} in ${r.delayMs} ms\n`),
    ...extra,
  });
}

export function warnTag(io: Io): (tag: string, digest: string) => void {
  return (tag, digest) =>
    io.stderr.write(`warning: tag '${tag}' resolved to ${digest}; using the digest (tags can be moved to other content, digests cannot)\n`);
}

/**
 * Who signs, from --key or --keyless (plus --rekor-url and the keyless service flags). A keyless
 * run makes one session: one ephemeral key and one certificate for every image of the command.
 */
export async function producerFromFlags(io: Io, flags: ParsedFlags): Promise<ImageProducer> {
  if (flags.keyless === true) {
    const s = await keylessSessionFromFlags(io, flags);
    return { signer: s.signer, certificate: s.certificate, chain: s.chain.slice(1), ...(s.tlog ? { tlog: s.tlog } : {}), tsaUrls: s.tsaUrls };
  }
  const keyPath = stringFlag(flags, 'key');
  if (!keyPath) throw new SigilError('USAGE', '--key or --keyless is required', { hint: 'pass the private key: --key cosign.key (create one with sigil generate-key-pair), or sign with --keyless' });
  const signer = await loadSigner(io, keyPath);
  const tlog = tlogFromFlags(flags);
  return { signer, ...(tlog ? { tlog } : {}) };
}

export { mapLimit } from '../oci/map-limit.js';
