/**
 * `npm run bench -- oci [images] [seconds]`: image signing and verification against the real
 * docker-registry (distribution 2.8, no referrers API → referrers tag schema) on 127.0.0.1, with
 * keyless signing through a `sigil up` stack (dev OIDC → CA + CT → Rekor v2 log → TSA).
 *   1. signing N images in one run (one RegistryClient, one keyless session): images/s,
 *      certificates issued, TCP connections opened, HTTP requests per image;
 *   2. HTTP round trips per verified image, by tag and by digest, cold and with the referrers
 *      (attachment) list cached — for referrers-only images and for images signed under both schemes;
 *   3. images verified per second with 32 in flight, sigil (verifyImageSignatures: discovery, both
 *      schemes, full verification) against a baseline in the same process: global fetch
 *      (undici, keep-alive) + the referrers tag index + @sigstore/verify on the bundle, also 32 in
 *      flight over the same images.
 */
import { readFileSync } from 'node:fs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { bundleFromJSON as sjsBundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot as ProtoTrustedRoot } from '@sigstore/protobuf-specs';
import { RegistryClient, referrersTag } from '../src/oci/client.js';
import { AttachmentCache } from '../src/oci/attachments.js';
import { resolveTargets, signTarget, type ImageProducer, type TagSchemeMode } from '../src/oci/sign-image.js';
import { verifyImageSignatures } from '../src/oci/verify-image.js';
import { OCI_MANIFEST, MANIFEST_ACCEPT } from '../src/oci/media-types.js';
import type { ImageReference } from '../src/oci/reference.js';
import { mapLimit } from '../src/cli/oci-common.js';
import { parseSigningConfig } from '../src/formats/signing-config.js';
import { beginKeyless, servicesFromSigningConfig } from '../src/sign/keyless.js';
import { TrustedRoot } from '../src/trust/trusted-root.js';
import { startRegistry } from '../test/helpers/registry.js';
import { startTestStack } from '../test/helpers/keyless.js';

const SAN = 'dev@sigil.local';

/** N distinct small images (unique config, one shared layer), pushed through the client. */
async function pushImages(client: RegistryClient, host: string, repo: string, n: number): Promise<ImageReference[]> {
  const r = { registry: host, repository: repo };
  const layer = Buffer.alloc(4096, 7);
  const l = await client.putBlob(r, layer);
  return mapLimit(
    Array.from({ length: n }, (_, i) => i),
    16,
    async (i) => {
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { n: String(i) } }, rootfs: { type: 'layers', diff_ids: [l.digest] } }));
      const c = await client.putBlob(r, config);
      const m = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c.digest, size: config.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: layer.length }],
        }),
      );
      await client.putManifest(r, `v${i}`, m, OCI_MANIFEST);
      return { ...r, tag: `v${i}` };
    },
  );
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Items per second of each contender, measured in alternating passes (one full pass over `items`
 * with `inFlight` concurrent, contender after contender) until `seconds` elapse, so a host whose
 * load changes during the run (other sessions share the 2 cores) hits all contenders alike.
 */
async function interleaved<T>(items: T[], inFlight: number, seconds: number, contenders: ((item: T) => Promise<void>)[]): Promise<number[]> {
  for (const one of contenders) await mapLimit(items.slice(0, inFlight), inFlight, one);
  const time = contenders.map(() => 0);
  const done = contenders.map(() => 0);
  const t0 = performance.now();
  do {
    for (const [k, one] of contenders.entries()) {
      const s0 = performance.now();
      await mapLimit(items, inFlight, one);
      time[k]! += performance.now() - s0;
      done[k]! += items.length;
    }
  } while (performance.now() - t0 < seconds * 1000);
  return done.map((n, k) => n / (time[k]! / 1000));
}

export default async function main(args: string[]): Promise<void> {
  const N = Number(args[0] ?? 100);
  const seconds = Number(args[1] ?? 5);
  const [reg, stack] = await Promise.all([startRegistry(), startTestStack()]);
  const setup = new RegistryClient({ env: {} });
  try {
    const trustJson = JSON.parse(readFileSync(stack.trustedRootPath, 'utf8')) as unknown;
    const trust = { root: TrustedRoot.fromJSON(trustJson) };
    const policy = { identity: { subjectAlternativeName: { exact: SAN }, issuer: { exact: stack.urls.oidc } } };
    const referrersOnly = await pushImages(setup, reg.host, 'bench/ref', N);
    const both = await pushImages(setup, reg.host, 'bench/both', Math.min(N, 20));

    // 1. Signing N images in one run: one client (connection pool), one keyless session (certificate).
    const services = servicesFromSigningConfig(parseSigningConfig(readFileSync(stack.signingConfigPath)));
    const signClient = new RegistryClient({ env: {} });
    // Count what the CA really issues (instrumentation of the running stack, not a model of it).
    let issued = 0;
    const ca = stack.ca as unknown as { issue: (...a: unknown[]) => Promise<unknown> };
    const issue = ca.issue.bind(stack.ca);
    ca.issue = async (...a: unknown[]) => {
      issued++;
      return issue(...a);
    };
    const run = await timed(async () => {
      const session = await beginKeyless({ token: await stack.oidc.mint(), caUrl: services.caUrl, tlog: services.tlogs[0]!, tsaUrls: services.tsaUrls });
      const producer: ImageProducer = { signer: session.signer, certificate: session.certificate, chain: session.chain.slice(1), ...(session.tlog ? { tlog: session.tlog } : {}), tsaUrls: session.tsaUrls };
      const sign = async (images: ImageReference[], tagScheme: TagSchemeMode) => {
        const targets = (await mapLimit(images, 8, (i) => resolveTargets(signClient, i))).flat();
        return mapLimit(targets, 8, (t) => signTarget(signClient, t, { producer, tagScheme }));
      };
      const a = await sign(referrersOnly, 'never');
      return { session, signed: a.length };
    });
    const signRequests = signClient.requestCount;
    const signConnections = signClient.connectionCount;
    console.log(`sign: ${run.value.signed} images (keyless, referrers only) in ${run.seconds.toFixed(2)} s = ${(run.value.signed / run.seconds).toFixed(1)} images/s`);
    console.log(`      certificates issued by the CA: ${issued}, TCP connections to the registry: ${signConnections}, registry requests per image: ${(signRequests / run.value.signed).toFixed(1)}`);
    // Images signed under both schemes (referrer + cosign .sig), for the round-trip comparison.
    const session = run.value.session;
    const producer: ImageProducer = { signer: session.signer, certificate: session.certificate, chain: session.chain.slice(1), ...(session.tlog ? { tlog: session.tlog } : {}), tsaUrls: session.tsaUrls };
    for (const t of (await mapLimit(both, 8, (i) => resolveTargets(signClient, i))).flat()) await signTarget(signClient, t, { producer, tagScheme: 'always' });
    signClient.close();

    // 2. Round trips per verified image.
    const trips = async (images: ImageReference[], byDigest: boolean, cached: boolean): Promise<number> => {
      const c = new RegistryClient({ env: {} });
      const cache = new AttachmentCache(cached ? 3_600_000 : 0);
      const refs = byDigest ? await mapLimit(images, 16, async (i) => ({ ...i, tag: undefined, digest: (await c.resolve(i)).digest }) as ImageReference) : images;
      if (cached) await mapLimit(refs, 16, (i) => verifyImageSignatures(c, i, { policy, trust, cache }));
      const before = c.requestCount;
      const res = await mapLimit(refs, 16, (i) => verifyImageSignatures(c, i, { policy, trust, cache }));
      if (res.some((r) => r.verified.length === 0)) throw new Error('an image did not verify');
      const per = (c.requestCount - before) / refs.length;
      c.close();
      return per;
    };
    const rows: [string, number][] = [];
    for (const [name, imgs] of [
      ['referrers only', referrersOnly.slice(0, 20)],
      ['referrer + cosign .sig', both],
    ] as const) {
      for (const byDigest of [false, true]) for (const cached of [false, true]) rows.push([`${name}, by ${byDigest ? 'digest' : 'tag'}, ${cached ? 'cached referrers list' : 'cold'}`, await trips([...imgs], byDigest, cached)]);
    }
    console.log('round trips per verified image:');
    for (const [k, v] of rows) console.log(`  ${k.padEnd(58)} ${v.toFixed(2)}`);

    // 3. Throughput, 32 in flight, by digest, cold discovery (no cache): sigil vs fetch + @sigstore/verify.
    const c = new RegistryClient({ env: {}, maxSockets: 32 });
    const digests = await mapLimit(referrersOnly, 16, async (i) => ({ ...i, tag: undefined, digest: (await c.resolve(i)).digest }) as ImageReference);
    const cache = new AttachmentCache(3_600_000);
    const sjs = new Verifier(toTrustMaterial(ProtoTrustedRoot.fromJSON(trustJson)));
    const base = `http://${reg.host}/v2/bench/ref`;
    const [baseline, sigil, sigilCached] = await interleaved(digests, 32, seconds * 3, [
      async (i) => {
        const idx = (await (await fetch(`${base}/manifests/${referrersTag(i.digest!)}`, { headers: { accept: MANIFEST_ACCEPT } })).json()) as { manifests: { digest: string }[] };
        const m = (await (await fetch(`${base}/manifests/${idx.manifests[0]!.digest}`, { headers: { accept: MANIFEST_ACCEPT } })).json()) as { layers: { digest: string }[] };
        const bundle = (await (await fetch(`${base}/blobs/${m.layers[0]!.digest}`)).json()) as Record<string, unknown>;
        sjs.verify(toSignedEntity(sjsBundleFromJSON(bundle)), { subjectAlternativeName: SAN, extensions: { issuer: stack.urls.oidc } });
      },
      async (i) => {
        const v = await verifyImageSignatures(c, i, { policy, trust });
        if (v.verified.length === 0) throw new Error('not verified');
      },
      async (i) => {
        const v = await verifyImageSignatures(c, i, { policy, trust, cache });
        if (v.verified.length === 0) throw new Error('not verified');
      },
    ]);
    c.close();
    console.log(`verify throughput, ${digests.length} images by digest, 32 in flight (interleaved passes, ${seconds * 3} s in all):`);
    console.log(`  baseline fetch + referrers tag + @sigstore/verify     ${baseline!.toFixed(0).padStart(6)} images/s  1.00`);
    console.log(`  sigil verifyImageSignatures (both schemes, cold)      ${sigil!.toFixed(0).padStart(6)} images/s  ${(sigil! / baseline!).toFixed(2)}`);
    console.log(`  sigil verifyImageSignatures (cached referrers list)   ${sigilCached!.toFixed(0).padStart(6)} images/s  ${(sigilCached! / baseline!).toFixed(2)}`);
  } finally {
    setup.close();
    await stack.stop();
    await reg.stop();
  }
}
