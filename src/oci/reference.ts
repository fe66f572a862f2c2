/**
 * Image references: `[host[:port]/]repo[:tag][@sha256:hex]`, following the grammar of
 * distribution/reference (the one Docker, containerd and cosign share) including its Docker Hub
 * defaults: no host → docker.io, a single path component on docker.io → library/<name>.
 */
import { SigilError } from '../core/errors.js';

export interface ImageReference {
  /** Registry as the user names it, normalised (`docker.io` for Docker Hub, host lower-cased). */
  readonly registry: string;
  /** Repository path inside the registry, e.g. `library/debian`. */
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<64 hex>` or `sha512:<128 hex>`, lower case (OCI image-spec descriptor.md "Digests"). */
  readonly digest?: string;
}

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API actually lives. */
const DOCKER_HUB_API = 'registry-1.docker.io';

// distribution/reference regexp.go, spelled out: path components are lower-case alphanumerics
// joined by one separator ([_.], __ or dashes).
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[0-9a-fA-F:.]+\]$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST_HEX: Record<string, number> = { sha256: 64, sha512: 128 };
const MAX_NAME = 255;

function fail(input: string, why: string): never {
  throw new SigilError('REFERENCE_MALFORMED', `image reference '${input}' is invalid: ${why}`, {
    hint: 'write it as [HOST[:PORT]/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. 127.0.0.1:5000/team/app:v1',
  });
}

/** Validates `algorithm:hex`; returns it unchanged or throws naming what is wrong. */
export function checkDigest(digest: string, input = digest): string {
  const i = digest.indexOf(':');
  if (i <= 0) fail(input, `digest '${digest}' must be ALGORITHM:HEX`);
  const alg = digest.slice(0, i);
  const hex = digest.slice(i + 1);
  const len = DIGEST_HEX[alg];
  if (len === undefined) fail(input, `digest algorithm '${alg}' is not supported (sha256 or sha512)`);
  if (hex.length !== len || !/^[0-9a-f]+$/.test(hex)) fail(input, `digest must be ${alg}: followed by ${len} lower-case hex characters`);
  return digest;
}

function checkDomain(domain: string, input: string): void {
  let host = domain;
  const portMatch = /^(.*):([0-9]+)$/.exec(domain);
  if (portMatch && !IPV6_HOST.test(domain)) {
    host = portMatch[1]!;
    const port = Number(portMatch[2]);
    if (port < 1 || port > 65535) fail(input, `port ${portMatch[2]} is out of range`);
  } else if (/^\[.*\]:([0-9]+)$/.test(domain)) {
    host = domain.slice(0, domain.lastIndexOf(':'));
  }
  if (IPV6_HOST.test(host)) return;
  if (host.length === 0 || !host.split('.').every((c) => DOMAIN_COMPONENT.test(c))) fail(input, `registry host '${domain}' is not a valid host name`);
}

export function parseReference(input: string): ImageReference {
  if (typeof input !== 'string' || input.length === 0) fail(String(input), 'it is empty');
  if (/\s/.test(input)) fail(input, 'it contains white space');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = checkDigest(rest.slice(at + 1), input);
    rest = rest.slice(0, at);
  }
  // A tag follows the last ':' that comes after the last '/', so a registry port is never read as a tag.
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) fail(input, `tag '${tag}' must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }
  if (rest.length === 0) fail(input, 'the repository name is missing');
  if (rest.length > MAX_NAME) fail(input, `the name is longer than ${MAX_NAME} characters`);

  let registry: string;
  let repository: string;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  // distribution/reference splitDockerDomain: the first component is a host only if it looks like one.
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    registry = DOCKER_HUB;
    repository = rest;
  } else {
    registry = first;
    repository = rest.slice(slash + 1);
    checkDomain(registry, input);
    registry = registry.toLowerCase();
    if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  }
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (repository.length === 0) fail(input, 'the repository name is missing');
  for (const c of repository.split('/')) {
    if (!PATH_COMPONENT.test(c)) {
      fail(input, `repository component '${c}' must be lower-case letters and digits joined by '.', '_', '__' or '-'`);
    }
  }
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** `registry/repository` as used for Docker's `docker-reference` identity and in messages. */
export function repositoryName(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The same repository pinned to `digest` (the tag dropped: a signature binds the digest, tags move). */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  return { registry: ref.registry, repository: ref.repository, digest: checkDigest(digest) };
}

export function withTag(ref: ImageReference, tag: string): ImageReference {
  if (!TAG.test(tag)) fail(tag, `tag '${tag}' must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  return { registry: ref.registry, repository: ref.repository, tag };
}

/** `host[:port]` the registry API is served from. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** The manifest reference to request: the digest when pinned, else the tag, else `latest`. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/**
 * Hosts Docker talks plain HTTP to without being told: localhost and the IPv4 loopback block
 * 127.0.0.0/8 and ::1 (moby registry/config.go treats 127.0.0.0/8 as insecure by default).
 */
export function isLoopbackRegistry(registry: string): boolean {
  let host = registry;
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']'));
  else if (host.includes(':')) host = host.slice(0, host.lastIndexOf(':'));
  host = host.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  if (host === 'localhost' || host === '::1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}
