/**
 * The certificate authority's issuing pipeline (fulcio docs/how-certificate-issuing-works.md):
 * authenticate the token → map it to an identity under the issuer's rules → check proof of
 * possession → build the precertificate → get an SCT from the CT log → issue the final
 * certificate with the SCT embedded (RFC 6962 §3.3). Checks run cheapest-first and nothing is
 * signed until all of them passed, so a refused request never yields a certificate or a CT entry.
 *
 * The precertificate and the final certificate differ only in their last extension (poison vs.
 * SCT list); RFC 6962 §3.2 has the log sign the TBS with the poison removed, and verifiers
 * rebuild it by removing the SCT list, so both must otherwise be byte-identical — they are built
 * from one list of extension encodings.
 */
import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import { SigilError } from '../../core/errors.js';
import { encodePem } from '../../core/pem.js';
import { parseClientPublicKey, type ClientPublicKey } from '../pki/algorithms.js';
import {
  CT_POISON_EXTENSION,
  EMPTY_NAME,
  OID,
  encodeTbs,
  extKeyUsageExtension,
  keyUsageExtension,
  randomSerial,
  sctListExtension,
  signCertificate,
  subjectAltNameExtension,
  subjectKeyIdExtension,
} from '../pki/certificate-builder.js';
import type { IssuingAuthority } from '../pki/issuer.js';
import { encodeSct, encodeSctList, type Sct } from '../pki/sct.js';
import type { CaConfig } from './config.js';
import { ctLogId, verifySct, type CtSubmitter } from './ct-submitter.js';
import { principalFor } from './principal.js';
import { publicKeyFromCsr, verifyChallengeSignature } from './proof-of-possession.js';
import type { SigningCertRequest } from './request.js';
import { TokenVerifier } from './token-verifier.js';

export interface IssuedCertificate {
  /** Leaf first, then the intermediate(s), root last (DER). */
  chain: Buffer[];
  /** The SCT embedded in the leaf, when a CT log is configured. */
  sct: Sct | undefined;
}

export interface CertificateAuthorityOptions {
  issuer: IssuingAuthority;
  config: CaConfig;
  /** Where precertificates go; without one, certificates carry no SCT. */
  ct?: CtSubmitter;
  /** Check each SCT from a remote log (addPreChain) against this key before embedding it. */
  ctLogKey?: KeyObject;
  now?: () => number;
  tokens?: TokenVerifier;
}

/** Fulcio's trust bundle and configuration replies (fulcio.proto TrustBundle, Configuration). */
export interface FulcioConfiguration {
  issuers: { issuerUrl: string; audience: string; challengeClaim: string; issuerType: string }[];
}

export class CertificateAuthority {
  readonly issuer: IssuingAuthority;
  readonly config: CaConfig;
  private readonly ct: CtSubmitter | undefined;
  private readonly ctLogKey: KeyObject | undefined;
  private readonly now: () => number;
  private readonly tokens: TokenVerifier;
  // Constant for every certificate: encoded once.
  private readonly keyUsage = keyUsageExtension(['digitalSignature']);
  private readonly extKeyUsage = extKeyUsageExtension([OID.codeSigning]);
  private readonly issuerNotAfter: number;
  private readonly issuerKeyHash: Buffer;
  private readonly ctLogId: Buffer | undefined;

  constructor(opts: CertificateAuthorityOptions) {
    this.issuer = opts.issuer;
    this.config = opts.config;
    this.ct = opts.ct;
    this.ctLogKey = opts.ctLogKey;
    this.now = opts.now ?? Date.now;
    this.tokens = opts.tokens ?? new TokenVerifier(opts.config, this.now);
    this.issuerNotAfter = notAfterOf(opts.issuer.certificate);
    this.issuerKeyHash = createHash('sha256').update(opts.issuer.spki).digest();
    this.ctLogId = opts.ctLogKey ? ctLogId(opts.ctLogKey) : undefined;
  }

  /** Runs every check, then issues. Throws SigilError (UNAUTHORIZED, IDENTITY_MISMATCH, SIGNATURE_INVALID, KEY_*, …) on refusal. */
  async issue(req: SigningCertRequest): Promise<IssuedCertificate> {
    const verified = await this.tokens.verify(req.token);
    const principal = principalFor(verified);
    let key: ClientPublicKey;
    if (req.key.kind === 'publicKey') {
      key = parseClientPublicKey(req.key.content);
      verifyChallengeSignature(key, principal.challenge, req.key.proofOfPossession);
    } else {
      key = publicKeyFromCsr(req.key.pem);
    }

    const now = this.now();
    // Whole seconds: X.509 times carry no fractions, and notBefore must not claim a later instant than issuance.
    const notBefore = new Date(Math.floor(now / 1000) * 1000);
    const notAfter = new Date(notBefore.getTime() + this.config.certificateValiditySeconds * 1000);
    if (notAfter.getTime() > this.issuerNotAfter) {
      throw new SigilError('CERTIFICATE_EXPIRED', 'the CA certificate expires before a new certificate would', { kind: 'internal', hint: 'rotate the CA intermediate certificate' });
    }
    const common = [this.keyUsage, this.extKeyUsage, subjectKeyIdExtension(key.spki), this.issuer.authorityKeyId, subjectAltNameExtension([principal.san]), ...principal.extensions];
    const fields = {
      serialNumber: randomSerial(),
      issuer: this.issuer.subject,
      subject: EMPTY_NAME,
      notBefore,
      notAfter,
      subjectPublicKeyInfo: key.spki,
    };

    let sct: Sct | undefined;
    let extensions = common;
    if (this.ct) {
      const precertTbs = encodeTbs({ ...fields, extensions: [...common, CT_POISON_EXTENSION] }, this.issuer.signatureAlgorithm);
      const precert = await signCertificate(precertTbs, this.issuer.signer);
      const chain = [precert, ...this.issuer.chain];
      if (this.ct.addTrustedPrecert) {
        // RFC 6962 §3.2: the log signs the TBS without the poison extension.
        const tbs = encodeTbs({ ...fields, extensions: common }, this.issuer.signatureAlgorithm);
        sct = await this.ct.addTrustedPrecert({ type: 'precert', issuerKeyHash: this.issuerKeyHash, tbs }, chain);
      } else {
        sct = await this.ct.addPreChain(chain);
        if (this.ctLogKey) {
          const tbsWithoutPoison = encodeTbs({ ...fields, extensions: common }, this.issuer.signatureAlgorithm);
          verifySct(sct, { type: 'precert', issuerKeyHash: this.issuerKeyHash, tbs: tbsWithoutPoison }, this.ctLogKey, this.ctLogId);
        }
      }
      extensions = [...common, sctListExtension(encodeSctList([encodeSct(sct)]))];
    }
    const leaf = await signCertificate(encodeTbs({ ...fields, extensions }, this.issuer.signatureAlgorithm), this.issuer.signer);
    return { chain: [leaf, ...this.issuer.chain], sct };
  }

  /** The chains a verifier needs: intermediate(s) and root, as PEM (GET /api/v2/trustBundle). */
  trustBundle(): { chains: { certificates: string[] }[] } {
    return { chains: [{ certificates: this.issuer.chain.map((c) => encodePem('CERTIFICATE', c)) }] };
  }

  configuration(): FulcioConfiguration {
    return {
      issuers: this.config.issuers.map((i) => ({
        issuerUrl: i.url,
        audience: i.audience,
        challengeClaim: i.type === 'email' ? 'email' : 'sub',
        issuerType: i.type,
      })),
    };
  }
}

function notAfterOf(certDer: Buffer): number {
  return new Date(new X509Certificate(certDer).validTo).getTime();
}
