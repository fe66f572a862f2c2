/**
 * Loads ../shared/corpus/cases.json into ready-to-verify inputs: the bundle (following
 * `bundlePointer` into npm attestation documents), trust material, policy and the artifact (file,
 * or digest when the artifact is not shipped). Shared by the corpus tests and bench/verify.ts.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { corpusPath } from '../helpers/paths.js';
import { importPublicKey } from '../../src/crypto/keys.js';
import { TrustedRoot } from '../../src/trust/trusted-root.js';
import { KeyRing } from '../../src/trust/keyring.js';
import type { ArtifactInput, TrustMaterial, VerifyPolicy } from '../../src/verify/types.js';
import type { DigestAlgorithm } from '../../src/core/digest.js';

export interface CorpusCase {
  id: string;
  bundle: string;
  bundlePointer?: string;
  artifact?: string;
  artifactOmitted?: { sha256: string };
  trustedRoot: string;
  expected: 'valid' | 'invalid';
  identity?: string;
  issuer?: string;
  key?: string;
  keys?: string;
  keyHint?: string;
  statement?: { subjects: { name: string; digest: Record<string, string> }[] };
  predicateType?: string;
}

export interface PreparedCase {
  c: CorpusCase;
  /** Bundle JSON text, or the error text when the file is not valid JSON (bundle-malformed-json_fail). */
  bundleText: string;
  trust: TrustMaterial;
  policy: VerifyPolicy;
  /** The artifact as a path when shipped, else as its digest. */
  artifact: ArtifactInput;
  /** The same artifact as its sha256 digest, when known (conformance runs every case both ways). */
  digestArtifact?: ArtifactInput;
}

export function loadCases(): CorpusCase[] {
  return (JSON.parse(readFileSync(corpusPath('cases.json'), 'utf8')) as { cases: CorpusCase[] }).cases;
}

function pointer(doc: unknown, ptr: string): unknown {
  let cur = doc;
  for (const part of ptr.split('/').slice(1)) cur = (cur as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return cur;
}

const roots = new Map<string, TrustedRoot>();
const rings = new Map<string, KeyRing>();

function rootFor(p: string): TrustedRoot | Error {
  try {
    let r = roots.get(p);
    if (!r) roots.set(p, (r = TrustedRoot.parse(readFileSync(corpusPath(p)))));
    return r;
  } catch (e) {
    return e as Error;
  }
}

/** A case whose trust material itself is rejected (bad trusted root, bad key file) comes back as `setupError`. */
export function prepareCase(c: CorpusCase): PreparedCase | { c: CorpusCase; setupError: Error } {
  const raw = readFileSync(corpusPath(c.bundle), 'utf8');
  const bundleText = c.bundlePointer ? JSON.stringify(pointer(JSON.parse(raw), c.bundlePointer)) : raw;
  const root = rootFor(c.trustedRoot);
  if (root instanceof Error) return { c, setupError: root };
  const trust: TrustMaterial = { root };
  const policy: VerifyPolicy = {};
  if (c.key) {
    try {
      policy.key = importPublicKey(readFileSync(corpusPath(c.key)));
    } catch (e) {
      return { c, setupError: e as Error };
    }
  }
  if (c.keys) {
    let ring = rings.get(c.keys);
    if (!ring) rings.set(c.keys, (ring = KeyRing.parse(readFileSync(corpusPath(c.keys)), 'npm:attestations')));
    trust.keys = ring;
  }
  if (c.identity !== undefined && c.issuer !== undefined) {
    policy.identity = { subjectAlternativeName: { exact: c.identity }, issuer: { exact: c.issuer } };
  }
  let artifact: ArtifactInput;
  let digestArtifact: ArtifactInput | undefined;
  const digestOf = (alg: DigestAlgorithm, hex: string): ArtifactInput => ({ digest: { alg, value: Buffer.from(hex, 'hex') } });
  if (c.artifact) {
    artifact = { path: corpusPath(c.artifact) };
    digestArtifact = digestOf('sha256', createHash('sha256').update(readFileSync(corpusPath(c.artifact))).digest('hex'));
  } else if (c.artifactOmitted) {
    artifact = digestOf('sha256', c.artifactOmitted.sha256);
  } else {
    // sigstore-js / npm bundles ship no artifact: their statement subject's digest stands in for it.
    const d = c.statement?.subjects[0]?.digest ?? {};
    const alg = (['sha256', 'sha512', 'sha384'] as const).find((a) => d[a] !== undefined);
    if (!alg) throw new Error(`case ${c.id} has no artifact and no subject digest`);
    artifact = digestOf(alg, d[alg]!);
  }
  return { c, bundleText, trust, policy, artifact, ...(digestArtifact ? { digestArtifact } : {}) };
}
