/**
 * A streaming tar reader (POSIX.1-2001 pax and ustar, GNU long names, old v7 headers) that never
 * holds more than one 512-byte header and one pax/long-name record in memory: entry bodies are
 * passed to the consumer as sub-slices of the incoming chunks, or skipped.
 *
 * Archives are untrusted: every header checksum is verified (POSIX "chksum" — unsigned sum of the
 * header with the checksum field read as spaces; signed sums from old tars are accepted too),
 * sizes must be sane integers, metadata records are capped, and an archive that ends inside a
 * header or an entry is an error naming the archive and the entry rather than a short read.
 */
import { readSync } from 'node:fs';
import { SigilError } from '../../core/errors.js';
import type { EntryKind } from '../view.js';

export interface TarEntry {
  name: string;
  kind: EntryKind;
  size: number;
  mode: number;
  linkTarget?: string;
  /** The raw typeflag, for consumers that care about GNU sparse files and the like. */
  typeflag: string;
}

/** Receives one entry's body; `write` returning false skips the rest of the body. */
export interface TarBodySink {
  write(chunk: Buffer): boolean | Promise<boolean>;
  end(truncated: boolean): void | Promise<void>;
}

export type TarEntryHandler = (entry: TarEntry) => TarBodySink | undefined | Promise<TarBodySink | undefined>;

const BLOCK = 512;
/** pax records and GNU long names larger than this are not names, they are an attack. */
const MAX_META = 1 << 20;
/** 1 TiB: larger entries do not occur in layers; a bigger size field is corruption. */
const MAX_ENTRY_SIZE = 2 ** 40;

function bad(label: string, message: string): SigilError {
  return new SigilError('ARCHIVE_MALFORMED', `${label}: ${message}`, { hint: 'the archive is corrupt or not a tar archive' });
}

function cstring(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end >= 0 && end < start + len ? end : start + len);
}

/** Numeric header field: octal text, or GNU base-256 when the high bit of the first byte is set. */
function numeric(buf: Buffer, start: number, len: number): number | undefined {
  if (buf[start]! & 0x80) {
    // Base-256, big-endian two's complement; negative values are invalid for sizes.
    if (buf[start] === 0xff) return undefined;
    let v = buf[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) {
      v = v * 256 + buf[i]!;
      if (v > Number.MAX_SAFE_INTEGER) return undefined;
    }
    return v;
  }
  const text = buf.toString('latin1', start, start + len).replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  return parseInt(text, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = numeric(h, 148, 8);
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function isZero(h: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (h[i] !== 0) return false;
  return true;
}

/** pax extended header records: "<len> <key>=<value>\n" (POSIX pax "Extended Header Format"). */
function parsePax(buf: Buffer, label: string): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0) break;
    const sp = buf.indexOf(0x20, pos);
    if (sp < 0) throw bad(label, 'malformed pax record');
    const len = Number(buf.toString('latin1', pos, sp));
    if (!Number.isSafeInteger(len) || len <= sp - pos + 1 || pos + len > buf.length || buf[pos + len - 1] !== 0x0a) {
      throw bad(label, 'malformed pax record length');
    }
    const rec = buf.toString('utf8', sp + 1, pos + len - 1);
    const eq = rec.indexOf('=');
    if (eq <= 0) throw bad(label, 'malformed pax record');
    out.set(rec.slice(0, eq), rec.slice(eq + 1));
    pos += len;
  }
  return out;
}

const KINDS: Record<string, EntryKind> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '5': 'dir', '3': 'other', '4': 'other', '6': 'other' };

export class TarParser {
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Bytes of the current body still to come, then padding to the next block. */
  private bodyLeft = 0;
  private padLeft = 0;
  private sink: TarBodySink | undefined;
  private current: TarEntry | undefined;
  private meta: { type: string; buf: Buffer; fill: number } | undefined;
  private pax = new Map<string, string>();
  private longName: string | undefined;
  private longLink: string | undefined;
  private zeroBlocks = 0;
  private ended = false;
  private sawHeader = false;
  /** Bytes consumed so far (for error messages). */
  private offset = 0;

  constructor(
    private readonly onEntry: TarEntryHandler,
    private readonly label: string,
  ) {}

  async push(chunk: Buffer): Promise<void> {
    let pos = 0;
    while (pos < chunk.length && !this.ended) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - pos);
        const piece = chunk.subarray(pos, pos + n);
        pos += n;
        this.bodyLeft -= n;
        this.offset += n;
        if (this.meta) {
          piece.copy(this.meta.buf, this.meta.fill);
          this.meta.fill += n;
          if (this.bodyLeft === 0) this.finishMeta();
        } else if (this.sink) {
          let more = this.sink.write(piece);
          if (typeof more !== 'boolean') more = await more;
          if (!more || this.bodyLeft === 0) {
            const s = this.sink;
            this.sink = undefined;
            // Not truncated: either the body is complete or the consumer needs no more of it.
            await s.end(false);
          }
        }
        continue;
      }
      if (this.padLeft > 0) {
        const n = Math.min(this.padLeft, chunk.length - pos);
        pos += n;
        this.padLeft -= n;
        this.offset += n;
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - pos);
      chunk.copy(this.header, this.headerFill, pos, pos + n);
      this.headerFill += n;
      pos += n;
      this.offset += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        await this.onHeader();
      }
    }
  }

  /** Called at end of input: an archive may end after its entries, but not inside one. */
  async finish(): Promise<void> {
    if (this.ended) return;
    if (this.bodyLeft > 0) {
      const name = this.current?.name ?? this.meta?.type ?? '?';
      if (this.sink) await this.sink.end(true);
      this.sink = undefined;
      throw bad(this.label, `archive is truncated inside entry "${name}" (${this.bodyLeft} bytes missing)`);
    }
    if (this.headerFill > 0) throw bad(this.label, `archive is truncated inside a header at offset ${this.offset - this.headerFill}`);
    if (!this.sawHeader && this.zeroBlocks === 0) throw bad(this.label, 'empty input is not a tar archive');
  }

  private finishMeta(): void {
    const m = this.meta!;
    this.meta = undefined;
    if (m.type === 'x') for (const [k, v] of parsePax(m.buf, this.label)) this.pax.set(k, v);
    else if (m.type === 'L') this.longName = cstring(m.buf, 0, m.buf.length);
    else if (m.type === 'K') this.longLink = cstring(m.buf, 0, m.buf.length);
    // 'g' (pax global header): its keys describe the archive, not entry names; nothing to apply.
  }

  private async onHeader(): Promise<void> {
    const h = this.header;
    if (isZero(h)) {
      this.zeroBlocks++;
      if (this.zeroBlocks >= 2) this.ended = true;
      return;
    }
    // A lone zero block followed by more headers is tolerated (some writers pad oddly).
    this.zeroBlocks = 0;
    const raw = decodeHeader(h, this.label, this.offset - BLOCK, !this.sawHeader);
    this.sawHeader = true;
    const { typeflag } = raw;
    if (raw.isMeta) {
      this.meta = { type: typeflag, buf: Buffer.alloc(raw.size), fill: 0 };
      this.bodyLeft = raw.size;
      this.padLeft = padOf(raw.size);
      if (raw.size === 0) this.finishMeta();
      return;
    }
    const entry = applyExtensions(raw, this.pax, this.longName, this.longLink, this.label, this.offset - BLOCK);
    this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    this.current = entry.entry;
    this.bodyLeft = entry.bodySize;
    this.padLeft = padOf(entry.bodySize);
    let sink = this.onEntry(entry.entry);
    if (sink && typeof (sink as Promise<unknown>).then === 'function') sink = await sink;
    this.sink = (sink as TarBodySink | undefined) && entry.entry.kind === 'file' ? (sink as TarBodySink) : undefined;
    if (this.sink && entry.bodySize === 0) {
      const s = this.sink;
      this.sink = undefined;
      await s.end(false);
    }
  }
}

function padOf(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

interface RawHeader {
  typeflag: string;
  isMeta: boolean;
  /** Size from the header itself (a pax record may override it). */
  size: number;
  name: string;
  linkTarget: string;
  mode: number;
  ustar: boolean;
}

/** Checks and decodes one 512-byte header block (not all-zero). */
function decodeHeader(h: Buffer, label: string, offset: number, first: boolean): RawHeader {
  if (!checksumOk(h)) throw bad(label, `header checksum mismatch at offset ${offset}${first ? ' (not a tar archive?)' : ''}`);
  const typeflag = String.fromCharCode(h[156]!);
  const isMeta = typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K';
  const size = numeric(h, 124, 12);
  if (size === undefined || size > MAX_ENTRY_SIZE) throw bad(label, `absurd entry size in header at offset ${offset}`);
  if (isMeta && size > MAX_META) throw bad(label, `${typeflag === 'L' || typeflag === 'K' ? 'GNU long name' : 'pax header'} of ${size} bytes at offset ${offset} is too large`);
  const ustar = h.toString('latin1', 257, 262) === 'ustar';
  const gnu = h.toString('latin1', 257, 265) === 'ustar  \0';
  let name = cstring(h, 0, 100);
  if (ustar && !gnu) {
    const prefix = cstring(h, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return { typeflag, isMeta, size, name, linkTarget: cstring(h, 157, 100), mode: numeric(h, 100, 8) ?? 0, ustar };
}

/** Applies pax records and GNU long names to a header; returns the entry and how many body bytes follow. */
function applyExtensions(
  raw: RawHeader,
  pax: Map<string, string>,
  longName: string | undefined,
  longLink: string | undefined,
  label: string,
  offset: number,
): { entry: TarEntry; bodySize: number } {
  let size = raw.size;
  const paxSize = pax.get('size');
  if (paxSize !== undefined) {
    if (!/^\d+$/.test(paxSize) || Number(paxSize) > MAX_ENTRY_SIZE) throw bad(label, `absurd pax size for entry at offset ${offset}`);
    size = Number(paxSize);
  }
  const name = pax.get('path') ?? longName ?? raw.name;
  const linkTarget = pax.get('linkpath') ?? longLink ?? raw.linkTarget;
  let kind: EntryKind = KINDS[raw.typeflag] ?? 'other';
  if (kind === 'file' && raw.typeflag !== '7' && name.endsWith('/') && !raw.ustar) kind = 'dir'; // v7 directories
  // Directories and symlinks carry no body; hard links normally none, but the size field rules.
  const bodySize = kind === 'symlink' || kind === 'dir' ? 0 : size;
  const entry: TarEntry = {
    name,
    kind,
    size: kind === 'file' ? size : 0,
    mode: raw.mode,
    typeflag: raw.typeflag,
    ...(kind === 'symlink' || kind === 'hardlink' ? { linkTarget } : {}),
  };
  return { entry, bodySize };
}

export interface IndexedEntry {
  entry: TarEntry;
  /** Offset of the body in the file. */
  offset: number;
}

/**
 * Lists an uncompressed tar file by seeking from header to header, reading no bodies except pax
 * records and long names: a `docker save` archive of gigabytes is indexed in milliseconds.
 */
export function indexTarFile(fd: number, fileSize: number, label: string): IndexedEntry[] {
  const out: IndexedEntry[] = [];
  const h = Buffer.alloc(BLOCK);
  let pos = 0;
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  let first = true;
  while (pos + BLOCK <= fileSize) {
    if (readSync(fd, h, 0, BLOCK, pos) !== BLOCK) throw bad(label, `archive is truncated inside a header at offset ${pos}`);
    if (isZero(h)) return out;
    const raw = decodeHeader(h, label, pos, first);
    first = false;
    pos += BLOCK;
    if (raw.isMeta) {
      if (pos + raw.size > fileSize) throw bad(label, `archive is truncated inside a ${raw.typeflag} record`);
      const body = Buffer.alloc(raw.size);
      readSync(fd, body, 0, raw.size, pos);
      if (raw.typeflag === 'x') for (const [k, v] of parsePax(body, label)) pax.set(k, v);
      else if (raw.typeflag === 'L') longName = cstring(body, 0, body.length);
      else if (raw.typeflag === 'K') longLink = cstring(body, 0, body.length);
      pos += raw.size + padOf(raw.size);
      continue;
    }
    const e = applyExtensions(raw, pax, longName, longLink, label, pos - BLOCK);
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    if (pos + e.bodySize > fileSize) throw bad(label, `archive is truncated inside entry "${e.entry.name}"`);
    out.push({ entry: e.entry, offset: pos });
    pos += e.bodySize + padOf(e.bodySize);
  }
  if (pos < fileSize) throw bad(label, `archive is truncated inside a header at offset ${pos}`);
  return out;
}

/** Reads a whole tar stream. */
export async function readTar(source: AsyncIterable<Buffer>, onEntry: TarEntryHandler, label: string): Promise<void> {
  const p = new TarParser(onEntry, label);
  for await (const chunk of source) await p.push(chunk);
  await p.finish();
}
