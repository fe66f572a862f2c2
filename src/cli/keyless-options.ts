/**
 * `--keyless` for the signing commands (sign-blob, attest-blob): which services to use (a Sigstore
 * signing_config.json, by default the one `sigil up` wrote to .sigil/, or cosign's explicit
 * --fulcio-url / --rekor-url / --timestamp-server-url), where the identity token comes from, and the
 * resulting signing session (ephemeral key + certificate).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SigilError } from '../core/errors.js';
import { parseSigningConfig } from '../formats/signing-config.js';
import { beginKeyless, servicesFromSigningConfig, type KeylessServices, type KeylessSession } from '../sign/keyless.js';
import { obtainIdentityToken } from '../sign/keyless/token.js';
import { DEFAULT_STATE_DIR } from '../services/defaults.js';
import type { Io, ParsedFlags } from './command.js';
import { tlogFromFlags } from './signing-key.js';

export { keylessFlags } from './keyless-flags.js';

function str(flags: ParsedFlags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function servicesFor(io: Io, flags: ParsedFlags): KeylessServices {
  let path = str(flags, 'signing-config');
  if (!path && !str(flags, 'fulcio-url')) {
    const dflt = join(io.cwd, DEFAULT_STATE_DIR, 'signing_config.json');
    if (existsSync(dflt)) path = dflt;
  }
  let services: KeylessServices = { caUrl: '', oidcUrl: undefined, tlogs: [], tsaUrls: [] };
  if (path) {
    let text: Buffer;
    try {
      text = readFileSync(resolve(io.cwd, path));
    } catch (e) {
      throw new SigilError('INPUT_UNREADABLE', `cannot read signing config ${path}: ${(e as Error).message}`, { cause: e });
    }
    services = servicesFromSigningConfig(parseSigningConfig(text));
  }
  const ca = str(flags, 'fulcio-url') ?? services.caUrl;
  if (!ca) {
    throw new SigilError('USAGE', '--keyless needs a CA', { hint: `pass --signing-config FILE or --fulcio-url URL, or run 'sigil up' here to create ${DEFAULT_STATE_DIR}/signing_config.json` });
  }
  const tsa = str(flags, 'timestamp-server-url');
  return { ...services, caUrl: ca, tsaUrls: tsa ? [tsa] : services.tsaUrls, oidcUrl: str(flags, 'oidc-issuer') ?? services.oidcUrl };
}

function openInBrowser(url: string): void {
  // Best effort: when no browser opens, the URL printed before is the way in.
  try {
    const child = spawn(process.platform === 'darwin' ? 'open' : 'xdg-open', [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // ignored: see above
  }
}

/** Builds the keyless session for a signing command; prints where the token came from and who was certified. */
export async function keylessSessionFromFlags(io: Io, flags: ParsedFlags): Promise<KeylessSession> {
  if (str(flags, 'key')) throw new SigilError('USAGE', '--keyless and --key exclude each other', { hint: 'sign with a key, or keyless with an identity' });
  const services = servicesFor(io, flags);
  const interactive = io.prompt !== undefined || process.stdin.isTTY === true;
  const { token, source } = await obtainIdentityToken({
    ...(str(flags, 'identity-token') ? { explicit: str(flags, 'identity-token')! } : {}),
    env: io.env,
    ...(services.oidcUrl ? { issuer: services.oidcUrl } : {}),
    clientId: str(flags, 'oidc-client-id') ?? 'sigstore',
    ...(interactive ? { openUrl: openInBrowser } : {}),
    say: (line) => io.stderr.write(line + '\n'),
  });
  const flagTlog = tlogFromFlags(flags);
  const tlog = flagTlog ?? services.tlogs[0];
  const session = await beginKeyless({ token, tokenSource: source, caUrl: services.caUrl, ...(tlog ? { tlog } : {}), tsaUrls: services.tsaUrls });
  io.stderr.write(`Keyless: certificate for ${session.identity.subjectAlternativeName} (issuer ${session.identity.issuer ?? 'unknown'}, token from ${source})\n`);
  return session;
}
