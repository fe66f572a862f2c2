/** PEM armour: decode one or many blocks, encode one. */
import { SigilError } from './errors.js';
import { fromBase64 } from './encoding.js';

export interface PemBlock {
  label: string;
  der: Buffer;
}

const BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

export function decodePemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK_RE)) {
    const body = m[2]!.replace(/\s+/g, '');
    out.push({ label: m[1]!, der: fromBase64(body, `PEM ${m[1]} block`) });
  }
  return out;
}

export function decodePem(text: string, expectedLabels?: string[]): PemBlock {
  const blocks = decodePemBlocks(text);
  const block = blocks.find((b) => !expectedLabels || expectedLabels.includes(b.label));
  if (!block) {
    throw new SigilError('KEY_MALFORMED', `no PEM block${expectedLabels ? ` of type ${expectedLabels.join(' or ')}` : ''} found`, {
      hint: 'pass a PEM file (-----BEGIN ...-----)',
    });
  }
  return block;
}

export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
