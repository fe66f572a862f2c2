/**
 * The transparency log of `sigil up`: H3's Rekor-compatible log (src/services/log) on SQLite in
 * the state directory, mounted at /log and announced as a Rekor v2 service in
 * signing_config.json. The key is ECDSA P-256, so the same log ID (SHA-256 of the key) serves
 * Rekor v1 signed entry timestamps and the v2 checkpoint key hint.
 */
import { mkdirSync } from 'node:fs';
import { TransparencyLog } from './log/log.js';
import { logRequestHandler } from './log/server.js';
import { openLogStore } from './storage/open-log-store.js';
import type { StateDir } from './state.js';
import type { TlogMount } from './up.js';

/**
 * Checkpoints are signed under the host (and port) of the log's URL, the name verifiers derive
 * from the trusted root's baseUrl as they do for Rekor (rekor.sigstore.dev signs as its host).
 */
export async function embeddedTlog(ctx: { state: StateDir; baseUrl: string }): Promise<TlogMount> {
  mkdirSync(ctx.state.path('log'), { recursive: true });
  // Like `sigil log serve`: commit with synchronous=NORMAL, then fdatasync the WAL before answering (see deferredSync).
  const store = await openLogStore(`sqlite:${ctx.state.path('log', 'log.sqlite')}`, { sqliteDeferredSync: true });
  const signer = ctx.state.signer('log');
  const log = await TransparencyLog.open({ store, signer, origin: new URL(ctx.baseUrl).host });
  const start = ctx.state.createdAt();
  return {
    handler: logRequestHandler(log),
    prefix: '/log',
    majorApiVersion: 2,
    trustedRootEntry: (baseUrl) => ({ baseUrl, publicKey: signer.publicKey, keyDetails: signer.keyDetails, start, logId: log.logId }),
    close: () => log.close(),
  };
}
