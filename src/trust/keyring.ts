/**
 * Named public keys a key-signed bundle may refer to by `verificationMaterial.publicKey.hint`,
 * each with the window in which it may sign. The JSON form is the one the npm registry publishes
 * through Sigstore's TUF repository (`registry.npmjs.org/keys.json` target):
 *   {"keys": [{"keyId": "SHA256:…", "keyUsage": "npm:attestations", "publicKey": {"rawBytes", "keyDetails", "validFor"}}]}
 * A hint alone never selects a key the caller did not trust: only keys loaded here can match.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { SigilError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import { ProtoReader } from '../formats/proto-json.js';
import type { ValidityWindow } from './trusted-root.js';

export interface RingKey {
  hint: string;
  usage: string;
  publicKey: KeyObject;
  validFor: ValidityWindow;
}

const r: ProtoReader = new ProtoReader('TRUSTED_ROOT_MALFORMED');

export class KeyRing {
  private readonly byHint = new Map<string, RingKey[]>();
  /** The JSON this ring came from, so worker threads can rebuild it. */
  readonly source: unknown;

  private constructor(keys: RingKey[], source: unknown) {
    this.source = source;
    for (const k of keys) {
      const list = this.byHint.get(k.hint) ?? [];
      list.push(k);
      this.byHint.set(k.hint, list);
    }
  }

  /** Reads `{"keys": [...]}`; `usage` keeps only keys with that keyUsage (e.g. "npm:attestations"). */
  static fromJSON(json: unknown, usage?: string): KeyRing {
    const o = r.object(json, 'keys');
    const keys: RingKey[] = [];
    r.array(o.keys, 'keys.keys').forEach((k, i) => {
      const p = `keys.keys[${i}]`;
      const ko = r.object(k, p);
      const hint = r.nonEmptyString(ko.keyId, `${p}.keyId`);
      const keyUsage = r.optString(ko.keyUsage, `${p}.keyUsage`);
      if (usage !== undefined && keyUsage !== usage) return;
      const pk = r.object(ko.publicKey, `${p}.publicKey`);
      const raw = r.nonEmptyBytes(pk.rawBytes, `${p}.publicKey.rawBytes`);
      let publicKey: KeyObject;
      try {
        publicKey = createPublicKey({ key: raw, format: 'der', type: 'spki' });
      } catch (e) {
        throw new SigilError('TRUSTED_ROOT_MALFORMED', `${p}.publicKey.rawBytes is not an SPKI public key: ${(e as Error).message}`, { cause: e });
      }
      const vf = r.optObject(pk.validFor, `${p}.publicKey.validFor`);
      let validFor: ValidityWindow = { start: new Date(0) };
      if (vf) {
        if (vf.start === undefined || vf.start === null) r.fail(`${p}.publicKey.validFor.start`, 'is missing');
        const start = r.timestamp(vf.start, `${p}.publicKey.validFor.start`);
        validFor = vf.end === undefined || vf.end === null ? { start } : { start, end: r.timestamp(vf.end, `${p}.publicKey.validFor.end`) };
      }
      keys.push({ hint, usage: keyUsage, publicKey, validFor });
    });
    return new KeyRing(keys, usage === undefined ? json : { keys: (o.keys as unknown[]).filter((k) => (k as Record<string, unknown>).keyUsage === usage) });
  }

  static parse(text: string | Uint8Array, usage?: string): KeyRing {
    return KeyRing.fromJSON(parseJson(text, 'key ring', 'TRUSTED_ROOT_MALFORMED'), usage);
  }

  get(hint: string): RingKey[] {
    return this.byHint.get(hint) ?? [];
  }

  get size(): number {
    let n = 0;
    for (const l of this.byHint.values()) n += l.length;
    return n;
  }
}
