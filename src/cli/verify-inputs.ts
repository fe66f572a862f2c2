/**
 * What the verify commands (verify-blob, verify-blob-attestation, sigil-conformance verify-bundle)
 * share: reading the bundle, key and trusted root files, building the policy from cosign-style
 * flags, interpreting FILE_OR_DIGEST, and printing the result.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { SigilError } from '../core/errors.js';
import { parseDigestString } from '../core/digest.js';
import { importPublicKey } from '../crypto/keys.js';
import { parseBundle, type ParsedBundle } from '../formats/bundle.js';
import { FULCIO_EXTENSIONS, type FulcioField } from '../x509/fulcio.js';
import { stringMatcher, type IdentityPolicy, type StringMatcher } from '../trust/identity.js';
import { TrustedRoot } from '../trust/trusted-root.js';
import type { ArtifactInput, TrustMaterial, VerificationResult, VerifyPolicy } from '../verify/types.js';
import type { Flags, Io, ParsedFlags } from './command.js';

export const extensionFlag: Flags = {
  'certificate-extension': {
    type: 'string',
    multiple: true,
    value: 'NAME=VALUE',
    description: `require a Fulcio certificate extension value, e.g. sourceRepositoryUri=https://github.com/o/r (names: ${Object.keys(FULCIO_EXTENSIONS).slice(0, 4).join(', ')}, …)`,
  },
};

export const ignoreTlogFlag: Flags = {
  'insecure-ignore-tlog': { type: 'boolean', description: 'accept a key-signed bundle without a transparency-log entry' },
};

export function str(flags: ParsedFlags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

function list(flags: ParsedFlags, name: string): string[] {
  const v = flags[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function pathIn(io: Io, p: string): string {
  return isAbsolute(p) ? p : resolve(io.cwd, p);
}

function readInput(io: Io, p: string, what: string): Buffer {
  try {
    return readFileSync(pathIn(io, p));
  } catch (e) {
    throw new SigilError('INPUT_UNREADABLE', `cannot read ${what} ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

export function readBundleFile(io: Io, p: string | undefined): ParsedBundle {
  if (!p) throw new SigilError('USAGE', '--bundle is required', { hint: 'pass the Sigstore bundle to verify with --bundle FILE' });
  return parseBundle(readInput(io, p, 'bundle'));
}

export function loadTrust(io: Io, flags: ParsedFlags): TrustMaterial {
  const p = str(flags, 'trusted-root');
  if (p) return { root: TrustedRoot.parse(readInput(io, p, 'trusted root')) };
  if (flags.staging === true) {
    throw new SigilError('USAGE', 'sigil ships no staging trusted root', { hint: 'pass the staging trusted_root.json with --trusted-root' });
  }
  return { root: TrustedRoot.publicGood() };
}

/** FILE_OR_DIGEST: a path when it exists on disk, else `sha256:<64 hex>` (sigstore-conformance cli_protocol.md). */
export function artifactFromArg(io: Io, arg: string | undefined): ArtifactInput {
  if (arg === undefined) throw new SigilError('USAGE', 'the artifact to verify is missing', { hint: 'pass the file (or sha256:<hex>) as the last argument' });
  const path = pathIn(io, arg);
  if (existsSync(path)) return { path };
  const d = parseDigestString(arg);
  if (d) return { digest: { alg: d.alg, value: d.value } };
  throw new SigilError('INPUT_UNREADABLE', `artifact ${arg} does not exist`, { hint: 'pass an existing file or sha256:<64 hex digits>' });
}

function extensionPolicy(flags: ParsedFlags): IdentityPolicy['extensions'] {
  const out: Partial<Record<FulcioField, StringMatcher>> = {};
  for (const item of list(flags, 'certificate-extension')) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq) as FulcioField;
    if (eq <= 0 || !(name in FULCIO_EXTENSIONS)) {
      throw new SigilError('USAGE', `--certificate-extension ${JSON.stringify(item)} is not NAME=VALUE with a known Fulcio extension name`, {
        hint: `names: ${Object.keys(FULCIO_EXTENSIONS).join(', ')}`,
      });
    }
    out[name] = { exact: item.slice(eq + 1) };
  }
  return Object.keys(out).length ? out : undefined;
}

export function policyFromFlags(io: Io, flags: ParsedFlags): VerifyPolicy {
  const keyPath = str(flags, 'key');
  const san = stringMatcher(str(flags, 'certificate-identity'), str(flags, 'certificate-identity-regexp'), 'certificate identity');
  const issuer = stringMatcher(str(flags, 'certificate-oidc-issuer'), str(flags, 'certificate-oidc-issuer-regexp'), 'OIDC issuer');
  const extensions = extensionPolicy(flags);
  const policy: VerifyPolicy = {};
  if (keyPath) {
    if (san || issuer || extensions) {
      throw new SigilError('USAGE', '--key cannot be combined with certificate identity flags', { hint: 'a bundle is signed either with a key or with a certificate' });
    }
    policy.key = importPublicKey(readInput(io, keyPath, 'public key'), `public key ${keyPath}`);
  } else {
    if (!san || !issuer) {
      throw new SigilError('USAGE', 'pass --key, or both --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]', {
        hint: 'verification needs to know who must have signed',
      });
    }
    policy.identity = { subjectAlternativeName: san, issuer, ...(extensions ? { extensions } : {}) };
  }
  if (flags['insecure-ignore-tlog'] === true) policy.tlogThreshold = 0;
  return policy;
}

/** The result as JSON: dates as RFC 3339, the rest as is. */
export function resultToJson(r: VerificationResult): Record<string, unknown> {
  return JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
}

export function printResult(io: Io, flags: ParsedFlags, r: VerificationResult, artifact: string): void {
  if (flags.output === 'json') {
    io.stdout.write(JSON.stringify({ verified: true, artifact, ...resultToJson(r) }, null, 2) + '\n');
    return;
  }
  const who =
    r.signer.kind === 'certificate'
      ? `${r.signer.subjectAlternativeNames.join(', ')} (issuer ${r.signer.issuer ?? 'unknown'})`
      : `key${r.signer.hint ? ` ${r.signer.hint}` : ''}`;
  const logged = r.tlogEntries.length ? `; logged at index ${r.tlogEntries.map((e) => e.logIndex).join(', ')}` : '; not in a transparency log';
  const when = r.timestamps.length ? `; signed at ${r.timestamps.map((t) => t.time.toISOString()).join(', ')}` : '';
  const st = r.statement ? `; ${r.statement.predicateType} attestation for subject ${JSON.stringify(r.statement.subjectName)}` : '';
  io.stdout.write(`Verified OK: ${artifact} signed by ${who}${logged}${when}${st}\n`);
}
