/**
 * How the CA hands a precertificate to a certificate transparency log and gets an SCT back
 * (RFC 6962 §4.1 add-pre-chain). `CtSubmitter` is the seam: over HTTP to a separate log, or
 * in-process when `sigil up` runs the log next to the CA. Either way the returned SCT can be
 * checked against the log's public key before it is embedded, so a faulty log cannot make the
 * CA issue certificates that verifiers would then reject.
 */
import { SigilError } from '../../core/errors.js';
import { sctFromJson, type CtEntry, type Sct } from '../pki/sct.js';

export { ctLogId, verifySct } from '../pki/sct.js';

export interface CtSubmitter {
  /** chain[0] is the precertificate, then its issuer and the rest of the chain, DER. */
  addPreChain(chain: Buffer[]): Promise<Sct>;
  /**
   * For a log in the same process as the CA: the CA hands over the entry it built itself (the
   * poison-free TBS and the issuer key hash), so the log neither re-parses nor re-verifies a
   * precertificate this process has just signed, and the CA need not re-verify the SCT that
   * same process made. A log across a network is reached through addPreChain and fully checked.
   */
  addTrustedPrecert?(entry: Extract<CtEntry, { type: 'precert' }>, chain: Buffer[]): Promise<Sct>;
}

export class HttpCtSubmitter implements CtSubmitter {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async addPreChain(chain: Buffer[]): Promise<Sct> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}/ct/v1/add-pre-chain`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chain: chain.map((c) => c.toString('base64')) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new SigilError('NETWORK', `CT log ${this.baseUrl} unreachable: ${(e as Error).message}`, { cause: e, hint: 'is the CT log running?' });
    }
    const text = await res.text();
    if (!res.ok) throw new SigilError('NETWORK', `CT log refused the precertificate: HTTP ${res.status} ${text.slice(0, 300)}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SigilError('SCT_INVALID', 'CT log reply is not JSON');
    }
    return sctFromJson(json);
  }
}
