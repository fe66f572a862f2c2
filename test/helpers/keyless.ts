/**
 * Test helpers for the keyless stack: a `sigil up` stack on a free 127.0.0.1 port in a temporary
 * state directory (cheap scrypt so key files are fast to write), and a signing-certificate
 * request built the way Sigstore clients build it (ephemeral P-256 key, DER ECDSA proof over the
 * email or sub claim).
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack, type StackOptions } from '../../src/services/up.js';

export const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };

export async function startTestStack(opts: Partial<StackOptions> = {}): Promise<Stack & { dir: string; stop(): Promise<void> }> {
  const dir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'sigil-keyless-'));
  const stack = await startStack({ stateDir: dir, port: 0, scrypt: TEST_SCRYPT, env: {}, ...opts });
  return Object.assign(stack, {
    dir,
    stop: async () => {
      await stack.close();
      if (!opts.stateDir) rmSync(dir, { recursive: true, force: true });
    },
  });
}

export interface ClientKey {
  publicKey: KeyObject;
  privateKey: KeyObject;
  pem: string;
}

export function clientKey(): ClientKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { publicKey, privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

export function signingCertBody(token: string, key: ClientKey, challenge: string): Record<string, unknown> {
  return {
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: key.pem },
      proofOfPossession: sign('sha256', Buffer.from(challenge), key.privateKey).toString('base64'),
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json };
}
