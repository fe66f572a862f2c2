/**
 * Where the identity token for keyless signing comes from, in cosign's order:
 * 1. given explicitly (--identity-token),
 * 2. SIGIL_IDENTITY_TOKEN (SIGSTORE_ID_TOKEN, which sigstore-js reads, also works),
 * 3. GitHub Actions' token service (ACTIONS_ID_TOKEN_REQUEST_URL + _TOKEN, audience "sigstore";
 *    the job needs `permissions: id-token: write`),
 * 4. an interactive browser login against the configured OIDC issuer, when a person is there.
 */
import { SigilError } from '../../core/errors.js';
import { isObject } from '../../core/json.js';
import { browserLogin } from './browser-login.js';

export type TokenSource = 'flag' | 'env' | 'github-actions' | 'browser';

export interface TokenOptions {
  explicit?: string;
  env: NodeJS.ProcessEnv;
  audience?: string;
  /** For the browser login; without it (or without `openUrl`) step 4 is skipped. */
  issuer?: string;
  clientId?: string;
  openUrl?: (url: string) => void | Promise<void>;
  say?: (line: string) => void;
}

const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function checkShape(token: string, where: string): string {
  const t = token.trim();
  if (!JWT_RE.test(t)) throw new SigilError('USAGE', `the identity token from ${where} is not a JWT`, { hint: 'pass the raw OIDC ID token (header.payload.signature)' });
  return t;
}

/** GitHub Actions' OIDC token service (docs.github.com, "OIDC token request"). */
export async function githubActionsToken(env: NodeJS.ProcessEnv, audience = 'sigstore'): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer) throw new SigilError('USAGE', 'ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not both set');
  const u = new URL(url);
  u.searchParams.set('audience', audience);
  let res: Response;
  try {
    res = await fetch(u, { headers: { authorization: `bearer ${bearer}`, accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new SigilError('NETWORK', `cannot reach the GitHub Actions token service: ${(e as Error).message}`, { cause: e });
  }
  const json = (await res.json().catch(() => undefined)) as unknown;
  if (!res.ok || !isObject(json) || typeof json.value !== 'string') {
    throw new SigilError('UNAUTHORIZED', `the GitHub Actions token service refused the request (HTTP ${res.status})`, { hint: 'give the job `permissions: id-token: write`' });
  }
  return checkShape(json.value, 'GitHub Actions');
}

export async function obtainIdentityToken(opts: TokenOptions): Promise<{ token: string; source: TokenSource }> {
  if (opts.explicit !== undefined && opts.explicit !== '') return { token: checkShape(opts.explicit, '--identity-token'), source: 'flag' };
  const fromEnv = opts.env.SIGIL_IDENTITY_TOKEN || opts.env.SIGSTORE_ID_TOKEN;
  if (fromEnv) return { token: checkShape(fromEnv, 'SIGIL_IDENTITY_TOKEN'), source: 'env' };
  if (opts.env.ACTIONS_ID_TOKEN_REQUEST_URL && opts.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    return { token: await githubActionsToken(opts.env, opts.audience), source: 'github-actions' };
  }
  if (opts.issuer && opts.openUrl) {
    const token = await browserLogin({
      issuer: opts.issuer,
      openUrl: opts.openUrl,
      say: opts.say ?? (() => undefined),
      ...(opts.clientId ? { clientId: opts.clientId } : {}),
    });
    return { token, source: 'browser' };
  }
  throw new SigilError('USAGE', 'no identity token for keyless signing', {
    hint: 'pass --identity-token, set SIGIL_IDENTITY_TOKEN, run in GitHub Actions with id-token: write, or run in a terminal to log in with a browser',
  });
}

/** The claim the proof of possession signs: the email for email identities, else `sub` (as Fulcio and sigstore-js). */
export function challengeClaim(token: string): string {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    throw new SigilError('USAGE', 'the identity token payload is not JSON');
  }
  if (!isObject(payload)) throw new SigilError('USAGE', 'the identity token payload is not a JSON object');
  if (typeof payload.email === 'string' && payload.email !== '') return payload.email;
  if (typeof payload.sub === 'string' && payload.sub !== '') return payload.sub;
  throw new SigilError('USAGE', 'the identity token has neither an email nor a sub claim');
}
