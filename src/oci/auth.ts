/**
 * Registry authentication: WWW-Authenticate challenges (RFC 7235), the Docker token protocol
 * (distribution docs/spec/auth/token.md: GET realm?service=&scope= with basic credentials, or the
 * OAuth2 refresh-token POST when the user has an identity token), and credentials from Docker's
 * config.json `auths` (credential helpers are out of scope: we say so instead of failing silently).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SigilError } from '../core/errors.js';
import { isObject, parseJson } from '../core/json.js';
import { fromBase64 } from '../core/encoding.js';
import { DOCKER_HUB } from './reference.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (`identitytoken` in config.json). */
  identityToken?: string;
  /** A bearer token to send as is (`registrytoken` in config.json). */
  registryToken?: string;
}

/**
 * Parses a WWW-Authenticate header into challenges. Several challenges can share one header,
 * separated by commas like the parameters, so a new challenge starts where a token is followed by
 * white space instead of '='.
 */
export function parseChallenges(headerValue: string): Challenge[] {
  const out: Challenge[] = [];
  const s = headerValue;
  let i = 0;
  const ws = (): void => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  const token = (): string => {
    const m = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(s.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  while (i < s.length) {
    const before = i;
    while (s[i] === ' ' || s[i] === '\t' || s[i] === ',') i++;
    const scheme = token();
    if (!scheme) {
      if (i === before) break;
      continue;
    }
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    // auth-params: key=value pairs separated by commas, until a token not followed by '=' (the next scheme).
    for (;;) {
      const save = i;
      ws();
      if (s[i] === ',') i++;
      ws();
      const key = token();
      ws();
      if (!key || s[i] !== '=') {
        i = save;
        break;
      }
      i++;
      ws();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++;
      } else {
        value = /^[^,\s]*/.exec(s.slice(i))![0];
        i += value.length;
      }
      ch.params[key.toLowerCase()] = value;
    }
  }
  return out;
}

/** Docker config keys name registries in several spellings; reduce them to `host[:port]`. */
function normaliseConfigKey(key: string): string {
  let k = key.trim().toLowerCase();
  k = k.replace(/^[a-z]+:\/\//, '');
  k = k.split('/')[0]!;
  if (k === 'index.docker.io' || k === 'registry-1.docker.io') return DOCKER_HUB;
  return k;
}

export interface DockerConfigCredentials {
  credentials?: Credentials;
  /** Set when config.json delegates this registry to a credential helper, which sigil does not run. */
  helper?: string;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
}

/** Reads credentials for `registry` from Docker's config.json; a missing file means none. */
export function loadDockerCredentials(registry: string, env: NodeJS.ProcessEnv, path = dockerConfigPath(env)): DockerConfigCredentials {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new SigilError('INPUT_UNREADABLE', `cannot read Docker config ${path}: ${(e as Error).message}`, { cause: e });
  }
  const doc = parseJson(text, `Docker config ${path}`);
  if (!isObject(doc)) throw new SigilError('INPUT_UNREADABLE', `Docker config ${path} is not a JSON object`);
  const want = normaliseConfigKey(registry);
  const result: DockerConfigCredentials = {};
  if (isObject(doc.auths)) {
    for (const [key, entry] of Object.entries(doc.auths)) {
      if (normaliseConfigKey(key) !== want || !isObject(entry)) continue;
      const c: Credentials = {};
      if (typeof entry.auth === 'string' && entry.auth.length > 0) {
        const decoded = fromBase64(entry.auth, `auth of ${key} in ${path}`).toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) throw new SigilError('INPUT_UNREADABLE', `auth of ${key} in ${path} is not base64 of user:password`);
        c.username = decoded.slice(0, colon);
        c.password = decoded.slice(colon + 1);
      }
      if (typeof entry.username === 'string' && entry.username) c.username = entry.username;
      if (typeof entry.password === 'string' && entry.password) c.password = entry.password;
      if (typeof entry.identitytoken === 'string' && entry.identitytoken) c.identityToken = entry.identitytoken;
      if (typeof entry.registrytoken === 'string' && entry.registrytoken) c.registryToken = entry.registrytoken;
      if (Object.keys(c).length > 0) result.credentials = c;
    }
  }
  if (!result.credentials) {
    if (isObject(doc.credHelpers)) {
      for (const [key, helper] of Object.entries(doc.credHelpers)) {
        if (normaliseConfigKey(key) === want && typeof helper === 'string') result.helper = helper;
      }
    }
    if (!result.helper && typeof doc.credsStore === 'string' && doc.credsStore) result.helper = doc.credsStore;
  }
  return result;
}

export function basicAuthorization(c: Credentials): string | undefined {
  if (c.username === undefined || c.password === undefined) return undefined;
  return 'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
}

/** `repository:<name>:<actions>` as the token protocol names a scope. */
export function repositoryScope(repository: string, actions: readonly string[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}
