/**
 * Read-side client of a sigil (or Rekor v1-compatible) log, used by `sigil log get|proof|monitor`:
 * the newest checkpoint, proofs and entries over HTTP. It only fetches and decodes; callers check
 * every proof against a checkpoint whose signature they verified.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { SigilError } from '../../core/errors.js';

export interface InclusionAnswer {
  logIndex: number;
  treeSize: number;
  rootHash: Buffer;
  hashes: Buffer[];
  checkpoint: string;
}

export interface V1Entry {
  uuid: string;
  body: Buffer;
  integratedTime: number;
  logID: string;
  logIndex: number;
  inclusion: InclusionAnswer;
  signedEntryTimestamp: string | undefined;
}

function bad(url: string, what: string): SigilError {
  return new SigilError('NETWORK', `${url} answered with ${what}`, { hint: 'is this a sigil or Rekor log URL?' });
}

const hexes = (a: unknown, url: string): Buffer[] => {
  if (!Array.isArray(a) || !a.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/i.test(h))) throw bad(url, 'a proof that is not a list of hex hashes');
  return (a as string[]).map((h) => Buffer.from(h, 'hex'));
};

export class LogReader {
  readonly url: string;
  constructor(
    url: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  async #get(path: string): Promise<Response> {
    const url = this.url + path;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw new SigilError('NETWORK', `cannot reach the log at ${url}: ${(e as Error).message}`, { cause: e, hint: 'check --url and that the log is running' });
    }
    if (res.status === 404) {
      const text = await res.text();
      let msg = text;
      try {
        msg = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // plain text body
      }
      throw new SigilError('NOT_FOUND', `${url}: ${msg}`);
    }
    if (res.status !== 200) throw new SigilError('NETWORK', `${url} answered HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return res;
  }

  async #json(path: string): Promise<Record<string, unknown>> {
    const res = await this.#get(path);
    try {
      const j = (await res.json()) as unknown;
      if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new Error('not an object');
      return j as Record<string, unknown>;
    } catch {
      throw bad(this.url + path, 'something that is not a JSON object');
    }
  }

  async checkpoint(): Promise<string> {
    return (await this.#get('/checkpoint')).text();
  }

  async publicKey(): Promise<KeyObject> {
    const pem = await (await this.#get('/api/v1/log/publicKey')).text();
    try {
      return createPublicKey(pem);
    } catch {
      throw bad(this.url, 'a public key that is not PEM');
    }
  }

  async consistency(firstSize: number, lastSize: number): Promise<Buffer[]> {
    return (await this.consistencyWithCheckpoints(firstSize, lastSize)).hashes;
  }

  /** The proof plus the checkpoints the log published for both sizes (first is '' for size 0). */
  async consistencyWithCheckpoints(firstSize: number, lastSize?: number): Promise<{ hashes: Buffer[]; firstCheckpoint: string; checkpoint: string }> {
    const j = await this.#json(`/api/v1/log/proof?firstSize=${firstSize}${lastSize === undefined ? '' : `&lastSize=${lastSize}`}`);
    if (typeof j.checkpoint !== 'string' || typeof j.firstCheckpoint !== 'string') throw bad(this.url, 'a consistency proof without checkpoints');
    return { hashes: hexes(j.hashes, this.url), firstCheckpoint: j.firstCheckpoint, checkpoint: j.checkpoint };
  }

  async inclusion(q: { index: number } | { leafHash: Buffer }, treeSize?: number): Promise<InclusionAnswer> {
    const sel = 'index' in q ? `logIndex=${q.index}` : `leafHash=${q.leafHash.toString('hex')}`;
    const j = await this.#json(`/api/v1/log/proof/inclusion?${sel}${treeSize === undefined ? '' : `&treeSize=${treeSize}`}`);
    return this.#inclusion(j);
  }

  #inclusion(j: Record<string, unknown>): InclusionAnswer {
    const { logIndex, treeSize, rootHash, checkpoint } = j;
    if (typeof logIndex !== 'number' || typeof treeSize !== 'number' || typeof rootHash !== 'string' || typeof checkpoint !== 'string') {
      throw bad(this.url, 'an inclusion proof without logIndex, treeSize, rootHash and checkpoint');
    }
    return { logIndex, treeSize, rootHash: Buffer.from(rootHash, 'hex'), hashes: hexes(j.hashes, this.url), checkpoint };
  }

  async entry(q: { index: number } | { uuid: string }): Promise<V1Entry> {
    const j = await this.#json('index' in q ? `/api/v1/log/entries?logIndex=${q.index}` : `/api/v1/log/entries/${encodeURIComponent(q.uuid)}`);
    const [uuid, raw] = Object.entries(j)[0] ?? [];
    const e = raw as Record<string, unknown> | undefined;
    const v = e?.verification as { inclusionProof?: Record<string, unknown>; signedEntryTimestamp?: string } | undefined;
    if (!uuid || !e || typeof e.body !== 'string' || !v?.inclusionProof) throw bad(this.url, 'an entry without body or inclusion proof');
    return {
      uuid,
      body: Buffer.from(e.body, 'base64'),
      integratedTime: Number(e.integratedTime),
      logID: String(e.logID),
      logIndex: Number(e.logIndex),
      inclusion: this.#inclusion(v.inclusionProof),
      signedEntryTimestamp: v.signedEntryTimestamp,
    };
  }
}
