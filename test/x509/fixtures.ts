/**
 * Test-only readers for the corpus: the pieces of a trusted_root.json and a bundle the X.509
 * layer takes as plain inputs. (The product's trusted-root parser is src/trust/, owned by the
 * verify layer; these helpers read only what the x509 tests need and fail loudly on anything else.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { Certificate } from '../../src/x509/certificate.js';
import type { CertificateAuthority } from '../../src/x509/chain.js';
import type { CtLogKey } from '../../src/x509/sct.js';
import { corpusPath } from '../helpers/paths.js';

interface RawRange {
  start: string;
  end?: string;
}
interface RawCa {
  certChain: { certificates: { rawBytes: string }[] };
  validFor: RawRange;
}
interface RawRoot {
  certificateAuthorities: RawCa[];
  timestampAuthorities?: RawCa[];
  ctlogs: { publicKey: { rawBytes: string; keyDetails: string; validFor: RawRange }; logId: { keyId: string } }[];
}

export interface TestRoot {
  cas: CertificateAuthority[];
  tsas: CertificateAuthority[];
  ctlogs: CtLogKey[];
}

function range(r: RawRange): { start: Date; end?: Date } {
  return r.end ? { start: new Date(r.start), end: new Date(r.end) } : { start: new Date(r.start) };
}

function ca(raw: RawCa): CertificateAuthority {
  return {
    certChain: raw.certChain.certificates.map((c) => Certificate.fromDer(Buffer.from(c.rawBytes, 'base64'))),
    validFor: range(raw.validFor),
  };
}

export function loadRoot(relPath: string): TestRoot {
  const raw = JSON.parse(readFileSync(corpusPath(relPath), 'utf8')) as RawRoot;
  return {
    cas: raw.certificateAuthorities.map(ca),
    tsas: (raw.timestampAuthorities ?? []).map(ca),
    ctlogs: raw.ctlogs.map((l) => ({
      logId: Buffer.from(l.logId.keyId, 'base64'),
      // PKCS1_RSA_PKCS1V5 keys are a bare RSAPublicKey (staging's RSA CT log), the rest SPKI.
      publicKey: createPublicKey({
        key: Buffer.from(l.publicKey.rawBytes, 'base64'),
        format: 'der',
        type: l.publicKey.keyDetails.startsWith('PKCS1_') ? 'pkcs1' : 'spki',
      }),
      validFor: range(l.publicKey.validFor),
    })),
  };
}

export const PUBLIC_GOOD = 'trusted-roots/public-good/trusted_root.json';

/** The case's own trusted root when it has one, else public-good (corpus README §1). */
export function conformanceRoot(name: string): TestRoot {
  const own = `sigstore-conformance/bundle-verify/${name}/trusted_root.json`;
  return loadRoot(existsSync(corpusPath(own)) ? own : PUBLIC_GOOD);
}

export interface TestBundle {
  /** Certificates in bundle order: leaf first. */
  certs: Buffer[];
  integratedTimes: Date[];
  timestamps: Buffer[];
  /** messageSignature.signature or the DSSE signature: what an RFC 3161 timestamp covers. */
  signature: Buffer | undefined;
}

interface RawBundle {
  verificationMaterial: {
    certificate?: { rawBytes: string };
    x509CertificateChain?: { certificates: { rawBytes: string }[] };
    tlogEntries?: { integratedTime?: string }[];
    timestampVerificationData?: { rfc3161Timestamps?: { signedTimestamp: string }[] };
  };
  messageSignature?: { signature: string };
  dsseEnvelope?: { signatures: { sig: string }[] };
}

export function loadBundle(relPath: string): TestBundle {
  const raw = JSON.parse(readFileSync(corpusPath(relPath), 'utf8')) as RawBundle;
  const vm = raw.verificationMaterial;
  const certs = vm.certificate
    ? [Buffer.from(vm.certificate.rawBytes, 'base64')]
    : (vm.x509CertificateChain?.certificates ?? []).map((c) => Buffer.from(c.rawBytes, 'base64'));
  const sig = raw.messageSignature?.signature ?? raw.dsseEnvelope?.signatures[0]?.sig;
  return {
    certs,
    integratedTimes: (vm.tlogEntries ?? [])
      .filter((e) => e.integratedTime !== undefined && e.integratedTime !== '0')
      .map((e) => new Date(Number(e.integratedTime) * 1000)),
    timestamps: (vm.timestampVerificationData?.rfc3161Timestamps ?? []).map((t) => Buffer.from(t.signedTimestamp, 'base64')),
    signature: sig === undefined ? undefined : Buffer.from(sig, 'base64'),
  };
}

export function conformanceBundle(name: string): TestBundle {
  return loadBundle(`sigstore-conformance/bundle-verify/${name}/bundle.sigstore.json`);
}
