/**
 * Just enough ELF (System V gABI, "ELF Header" and "Sections") to find a section by name: the
 * header, the section header table and the section-name string table, read by random access.
 * Every offset and count comes from the file, so each is bounds-checked against the file size;
 * a malformed file yields undefined, never an exception or a huge allocation.
 */
import type { RandomAccess } from './cataloger.js';

export interface ElfSection {
  name: string;
  type: number;
  offset: number;
  size: number;
}

const MAX_SECTIONS = 65535;

export function isElf(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/** The section headers of an ELF file (32/64-bit, either byte order), or undefined if malformed. */
export function elfSections(file: RandomAccess): ElfSection[] | undefined {
  const h = file.read(0, 64);
  if (h.length < 52 || !isElf(h)) return undefined;
  const cls = h[4];
  const le = h[5] === 1;
  if ((cls !== 1 && cls !== 2) || (h[5] !== 1 && h[5] !== 2)) return undefined;
  const is64 = cls === 2;
  if (is64 && h.length < 64) return undefined;
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const uword = (b: Buffer, o: number) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
  const shoff = uword(h, is64 ? 0x28 : 0x20);
  const shentsize = u16(h, is64 ? 0x3a : 0x2e);
  const shnum = u16(h, is64 ? 0x3c : 0x30);
  const shstrndx = u16(h, is64 ? 0x3e : 0x32);
  const minEnt = is64 ? 64 : 40;
  if (shnum === 0 || shnum > MAX_SECTIONS || shentsize < minEnt || shstrndx >= shnum) return undefined;
  if (!Number.isSafeInteger(shoff) || shoff + shnum * shentsize > file.size) return undefined;
  const table = file.read(shoff, shnum * shentsize);
  if (table.length !== shnum * shentsize) return undefined;
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const o = i * shentsize;
    raw.push({
      nameOff: u32(table, o),
      type: u32(table, o + 4),
      offset: uword(table, is64 ? o + 24 : o + 16),
      size: uword(table, is64 ? o + 32 : o + 20),
    });
  }
  const strtab = raw[shstrndx]!;
  if (strtab.offset + strtab.size > file.size || strtab.size > 1 << 20) return undefined;
  const names = file.read(strtab.offset, strtab.size);
  return raw.map((s) => {
    const end = names.indexOf(0, s.nameOff);
    const name = s.nameOff < names.length ? names.toString('latin1', s.nameOff, end < 0 ? names.length : end) : '';
    return { name, type: s.type, offset: s.offset, size: s.size };
  });
}

/** SHT_NOBITS: the section occupies no file space (.bss). */
export const SHT_NOBITS = 8;
