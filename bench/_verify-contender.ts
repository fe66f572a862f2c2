/**
 * One contender of bench/verify.ts, run in its own worker thread so that each gets a pristine V8
 * isolate (its own heap and inline caches): measured in the main thread side by side, sigstore-js
 * and sigil slowed each other down through shared Buffer/crypto call sites and each other's
 * garbage. workerData.contender is 'sigil' | 'sigstore-js' | 'ceiling'; each {seconds} message is
 * answered with the passes completed and the wall and CPU time they took.
 */
import { X509Certificate, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { bundleFromJSON as sjsBundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot as ProtoTrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { loadCases, prepareCase, type PreparedCase } from '../test/verify/corpus-cases.js';
import { corpusPath } from '../test/helpers/paths.js';
import { verifySync } from '../src/verify/verify.js';
import { parseBundle, certificateMaterial } from '../src/formats/bundle.js';
import { setPayload } from '../src/verify/set.js';
import { parseSignedNote } from '../src/formats/checkpoint.js';
import { keyHashAlgorithm } from '../src/crypto/keys.js';
import { envelopePae } from '../src/formats/dsse.js';
import type { ArtifactInput } from '../src/verify/types.js';

export const PUBLIC_GOOD = 'trusted-roots/public-good/trusted_root.json';

export interface Item {
  p: PreparedCase;
  artifact: ArtifactInput;
  artifactBytes?: Buffer;
}

/** Every valid certificate case of cases.json under the public-good root, artifacts in memory. */
export function benchItems(): Item[] {
  const items: Item[] = [];
  for (const c of loadCases()) {
    if (c.expected !== 'valid' || c.trustedRoot !== PUBLIC_GOOD || c.identity === undefined) continue;
    const p = prepareCase(c);
    if ('setupError' in p) continue;
    // Artifacts as bytes for both verifiers: the benchmark measures verification, not file reads.
    if ('path' in p.artifact) {
      const bytes = readFileSync(p.artifact.path);
      items.push({ p, artifact: { bytes }, artifactBytes: bytes });
    } else {
      items.push({ p, artifact: p.artifact });
    }
  }
  return items;
}

/** One pass over all items with the named contender; every verification must succeed. */
export function makePass(contender: string, items: Item[]): () => void {
  const trust = items[0]!.p.trust;
  if (contender === 'sigil') {
    return () => {
      for (const it of items) verifySync(it.p.bundleText, it.artifact, it.p.policy, trust);
    };
  }
  if (contender === 'sigstore-js') {
    // Set up as sigstore-js clients do: trust material once, each bundle parsed and verified.
    const rootJson: unknown = JSON.parse(readFileSync(corpusPath(PUBLIC_GOOD), 'utf8'));
    const verifier = new Verifier(toTrustMaterial(ProtoTrustedRoot.fromJSON(rootJson)));
    return () => {
      for (const it of items) {
        const entity = toSignedEntity(sjsBundleFromJSON(JSON.parse(it.p.bundleText)), it.artifactBytes);
        verifier.verify(entity, { subjectAlternativeName: it.p.c.identity!, extensions: { issuer: it.p.c.issuer! } });
      }
    };
  }
  // The crypto ceiling: the raw node:crypto operations each bundle needs, inputs prepared outside
  // the timing — one X509Certificate parse of the leaf, the leaf's signature by its CA key (P-384
  // for public-good Fulcio), the artifact or DSSE signature, the SET and the checkpoint signature.
  const caKeys = trust.root.certificateAuthorities.map((ca) => createPublicKey({ key: ca.certChain[0]!.spki, format: 'der', type: 'spki' }));
  const ops = items.map((it) => {
    const pb = parseBundle(it.p.bundleText);
    const certs = certificateMaterial(pb.bundle)!;
    const leafX = new X509Certificate(certs.leaf);
    const issuerKey = caKeys.find((k) => leafX.verify(k));
    if (!issuerKey) throw new Error(`${it.p.c.id}: no CA key verifies the leaf`);
    const leafKey = leafX.publicKey;
    const content = pb.bundle.content;
    const [data, sig] =
      content.$case === 'messageSignature' ? [it.artifactBytes!, content.messageSignature.signature] : [envelopePae(content.dsseEnvelope), content.dsseEnvelope.signatures[0]!.sig];
    const hash = keyHashAlgorithm(leafKey);
    const logOps: [Buffer, KeyObject, Buffer][] = [];
    for (const e of pb.bundle.verificationMaterial.tlogEntries) {
      const log = trust.root.tlogsFor(e.logId!.keyId)[0]!;
      if (e.inclusionPromise) logOps.push([setPayload(e), log.publicKey, e.inclusionPromise.signedEntryTimestamp]);
      if (e.inclusionProof?.checkpoint) {
        const note = parseSignedNote(e.inclusionProof.checkpoint.envelope);
        const s = note.signatures.find((x) => x.keyHint.equals(e.logId!.keyId.subarray(0, 4)))!;
        logOps.push([Buffer.from(note.body, 'utf8'), log.publicKey, s.signature]);
      }
    }
    return (): boolean => {
      const x = new X509Certificate(certs.leaf);
      let ok = x.verify(issuerKey);
      ok = cryptoVerify(hash, data, leafKey, sig) && ok;
      for (const [d, k, s] of logOps) ok = cryptoVerify('sha256', d, k, s) && ok;
      return ok;
    };
  });
  return () => {
    for (const op of ops) if (!op()) throw new Error('ceiling operation failed');
  };
}

export interface SliceResult {
  items: number;
  wallSeconds: number;
  cpuSeconds: number;
}

const port = parentPort;
if (port && (workerData as { contender?: string } | undefined)?.contender) {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const items = benchItems();
  const pass = makePass((workerData as { contender: string }).contender, items);
  for (let i = 0; i < 3; i++) pass(); // warm-up, and proof that every bundle verifies
  port.postMessage({ ready: items.length });
  port.on('message', (m: { seconds: number }) => {
    gc();
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + m.seconds * 1000;
    do {
      pass();
      n += items.length;
    } while (performance.now() < end);
    const wallSeconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    port.postMessage({ items: n, wallSeconds, cpuSeconds: (c.user + c.system) / 1e6 } satisfies SliceResult);
  });
}
