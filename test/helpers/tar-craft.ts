/**
 * Hand-made tar archives for malformed-input tests: real tools refuse to write `../` names,
 * base-256 sizes on small files or wrong checksums, so these headers are built byte by byte
 * (POSIX ustar layout).
 */
export interface CraftEntry {
  name: string;
  body?: Buffer | string;
  /** typeflag, default '0' */
  type?: string;
  linkname?: string;
  /** Raw 12-byte size field to write instead of the body length. */
  sizeField?: Buffer;
  /** Corrupt the checksum. */
  badChecksum?: boolean;
  mode?: number;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

export function tarHeader(e: CraftEntry, bodyLength: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.name, 0, 100, 'utf8');
  h.write(octal(e.mode ?? 0o644, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  if (e.sizeField) e.sizeField.copy(h, 124);
  else h.write(octal(bodyLength, 12), 124, 'latin1');
  h.write(octal(0, 12), 136, 'latin1');
  h.write(e.type ?? '0', 156, 'latin1');
  if (e.linkname) h.write(e.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(e.badChecksum ? sum + 1 : sum, 7) + ' ', 148, 'latin1');
  return h;
}

/** An archive of the entries, ended by two zero blocks unless `noEnd`. */
export function craftTar(entries: CraftEntry[], opts: { noEnd?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(e.body) ? e.body : Buffer.from(e.body);
    parts.push(tarHeader(e, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  if (!opts.noEnd) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A pax extended header entry carrying `records`. */
export function paxEntry(records: Record<string, string>): CraftEntry {
  let body = '';
  for (const [k, v] of Object.entries(records)) {
    const rec = ` ${k}=${v}\n`;
    let len = rec.length + 1;
    while (String(len).length + rec.length !== len) len = String(len).length + rec.length;
    body += `${len}${rec}`;
  }
  return { name: 'PaxHeader', type: 'x', body };
}
