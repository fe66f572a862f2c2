/**
 * Loads the optional native ECDSA-over-digest addon (native/prehash, built by
 * `node scripts/build-native.mjs`). When it is absent or fails to load, `nativePrehash` is
 * undefined and prehash.ts uses the BigInt implementation: same answers, ~10x slower.
 * SIGIL_NO_NATIVE=1 forces the fallback (tests and the benchmark compare both).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface NativePrehash {
  /** curve 0 = P-256, 1 = P-384, 2 = P-521; null when the point is not on the curve. */
  newKey(curve: number, point: Buffer): object | null;
  verify(key: object, digest: Buffer, derSignature: Buffer): boolean;
  /** One-shot without a key handle; null when the point is not on the curve. */
  verifyPoint(curve: number, point: Buffer, digest: Buffer, derSignature: Buffer): boolean | null;
  /** Builds a hot key's fixed-base table on libuv's pool (~15 ms, ~150 KB); null when the point is not on P-256. */
  precomputeP256(point: Buffer): Promise<object | null>;
  /** verify() with a table from precomputeP256: same answers, about three times as fast. */
  verifyHot(table: object, digest: Buffer, derSignature: Buffer): boolean;
  /** How verifyHot inverts s modulo n: OpenSSL's assembly found in node ('ord-asm') or BN_mod_inverse ('bn'). */
  hotInverse(): 'ord-asm' | 'bn';
  /** How verifyHot multiplies: a comb with direct table lookups over OpenSSL's P-256 assembly ('direct'), or EC_POINT_mul ('openssl'). */
  hotComb(): 'direct' | 'openssl';
}

// From src/crypto/ (tsx) and from dist/src/crypto/ (compiled) the addon sits at the repo root.
const CANDIDATES = ['../../native/prehash/build/Release/sigil_prehash.node', '../../../native/prehash/build/Release/sigil_prehash.node'];

function load(): NativePrehash | undefined {
  if (process.env.SIGIL_NO_NATIVE) return undefined;
  const require = createRequire(import.meta.url);
  for (const rel of CANDIDATES) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (!existsSync(path)) continue;
    try {
      const mod = require(path) as Partial<NativePrehash>;
      const fns = [mod.newKey, mod.verify, mod.verifyPoint, mod.precomputeP256, mod.verifyHot, mod.hotInverse, mod.hotComb];
      if (fns.every((f) => typeof f === 'function')) {
        return mod as NativePrehash;
      }
    } catch {
      // Built for another node ABI or missing symbols: use the portable path.
    }
  }
  return undefined;
}

export const nativePrehash: NativePrehash | undefined = load();
