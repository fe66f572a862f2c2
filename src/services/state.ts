/**
 * The on-disk state of sigil's keyless services, one directory (default `.sigil/`):
 *
 *   keys/password            random key-file password (unless SIGIL_STATE_PASSWORD is set)
 *   keys/*.key               encrypted service keys (cosign format)
 *   ca/chain.pem             CA intermediate then root; ca/config.json issuer allow-list and rules
 *   tsa/chain.pem            TSA certificate then its root
 *   ctlog/ctlog.sqlite       the CT log
 *   oidc/issuer.json         URL and identity of the development OIDC issuer
 *   signing_config.json, trusted_root.json   written by `sigil up` for clients
 *
 * Created on first use and reused afterwards; each loader checks that certificates still match
 * their keys and re-creates the chain when a key was replaced, so a half-deleted state directory
 * heals instead of serving certificates nobody can verify.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SigilError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import type { ScryptParams } from '../crypto/cosign-key.js';
import type { LocalSigner } from '../crypto/local-signer.js';
import { OID } from './pki/certificate-builder.js';
import { IssuingAuthority, certificateParts, createLeafCertificate, createRootCertificate, createSubordinateCertificate } from './pki/issuer.js';
import { loadOrCreateSigner, readCertificateChain, stateKeyPassword, writeCertificateChain, writeFileAtomic } from './pki/key-store.js';

import { DEFAULT_STATE_DIR } from './defaults.js';
export { DEFAULT_STATE_DIR };
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

export class StateDir {
  readonly password: string;

  constructor(
    readonly dir: string,
    env: NodeJS.ProcessEnv,
    private readonly scrypt?: ScryptParams,
  ) {
    mkdirSync(dir, { recursive: true });
    this.password = stateKeyPassword(dir, env);
  }

  /**
   * When this state directory was first used: the start of the validity windows published in
   * trusted_root.json, so bundles signed in earlier runs still verify after a restart.
   */
  createdAt(now = Date.now()): Date {
    const v = this.readJson('state.json');
    const t = typeof v === 'object' && v !== null ? (v as { created?: unknown }).created : undefined;
    if (typeof t === 'string' && !Number.isNaN(Date.parse(t))) return new Date(t);
    const created = new Date(Math.floor(now / 1000) * 1000 - 60_000);
    this.writeJson({ created: created.toISOString() }, 'state.json');
    return created;
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  signer(name: string): LocalSigner {
    return loadOrCreateSigner(this.path('keys', `${name}.key`), { password: this.password, ...(this.scrypt ? { scrypt: this.scrypt } : {}) }).signer;
  }

  readJson(...parts: string[]): unknown | undefined {
    const p = this.path(...parts);
    if (!existsSync(p)) return undefined;
    return parseJson(readFileSync(p), p, 'INPUT_UNREADABLE');
  }

  writeJson(value: unknown, ...parts: string[]): string {
    const p = this.path(...parts);
    writeFileAtomic(p, JSON.stringify(value, null, 2) + '\n');
    return p;
  }
}

function chainMatches(chain: Buffer[] | undefined, signers: LocalSigner[]): chain is Buffer[] {
  if (!chain || chain.length !== signers.length) return false;
  return chain.every((c, i) => certificateParts(c).subjectPublicKeyInfo.equals(signers[i]!.publicKey.export({ type: 'spki', format: 'der' })));
}

function readChainIfPresent(path: string): Buffer[] | undefined {
  return existsSync(path) ? readCertificateChain(path) : undefined;
}

/** The CA's issuing intermediate (chain: intermediate, root), created on first use. */
export async function loadCaIssuer(state: StateDir, now = Date.now()): Promise<IssuingAuthority> {
  const rootSigner = state.signer('ca-root');
  const interSigner = state.signer('ca-intermediate');
  const chainPath = state.path('ca', 'chain.pem');
  let chain = readChainIfPresent(chainPath);
  if (!chainMatches(chain, [interSigner, rootSigner])) {
    const notBefore = new Date(now - 60_000);
    const notAfter = new Date(now + TEN_YEARS_MS);
    const root = await createRootCertificate(rootSigner, { name: { organization: 'sigil', commonName: 'sigil root CA' }, notBefore, notAfter });
    const inter = await createSubordinateCertificate(new IssuingAuthority(rootSigner, [root]), interSigner.publicKey.export({ type: 'spki', format: 'der' }), {
      name: { organization: 'sigil', commonName: 'sigil intermediate CA' },
      notBefore,
      notAfter,
      extKeyUsage: [OID.codeSigning],
      pathLen: 0,
    });
    chain = [inter, root];
    writeCertificateChain(chainPath, chain);
  }
  return new IssuingAuthority(interSigner, chain);
}

/** The TSA key and its chain (TSA certificate, root), created on first use. */
export async function loadTsaChain(state: StateDir, now = Date.now()): Promise<{ signer: LocalSigner; chain: Buffer[] }> {
  const rootSigner = state.signer('tsa-root');
  const signer = state.signer('tsa');
  const chainPath = state.path('tsa', 'chain.pem');
  let chain = readChainIfPresent(chainPath);
  if (!chainMatches(chain, [signer, rootSigner])) {
    const notBefore = new Date(now - 60_000);
    const notAfter = new Date(now + TEN_YEARS_MS);
    const root = await createRootCertificate(rootSigner, { name: { organization: 'sigil', commonName: 'sigil TSA root' }, notBefore, notAfter });
    const leaf = await createLeafCertificate(new IssuingAuthority(rootSigner, [root]), signer.publicKey.export({ type: 'spki', format: 'der' }), {
      name: { organization: 'sigil', commonName: 'sigil timestamp authority' },
      notBefore,
      notAfter,
      extKeyUsage: [OID.timeStamping],
      extKeyUsageCritical: true,
    });
    chain = [leaf, root];
    writeCertificateChain(chainPath, chain);
  }
  return { signer, chain };
}

export interface OidcState {
  url: string;
  subject: string;
  email?: string;
}

export function readOidcState(state: StateDir): OidcState {
  const v = state.readJson('oidc', 'issuer.json');
  if (typeof v !== 'object' || v === null || typeof (v as OidcState).url !== 'string' || typeof (v as OidcState).subject !== 'string') {
    throw new SigilError('INPUT_UNREADABLE', `${state.path('oidc', 'issuer.json')} is missing or invalid`, {
      hint: 'start the stack first: sigil up (or sigil oidc serve)',
    });
  }
  return v as OidcState;
}
