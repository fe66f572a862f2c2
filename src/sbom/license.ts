/**
 * Turns the license strings that package metadata records (npm `license`, Debian DEP-5 short
 * names, RPM tags, Python classifiers, …) into one SPDX license expression. Valid expressions are
 * kept; known dialect names are mapped; `spdx-correct` is the last resort; anything else becomes a
 * `LicenseRef-…` whose original text is kept, so no information is dropped and no license is
 * invented (a correction that would add a version the input did not state is refused).
 */
import { createRequire } from 'node:module';
import type { SpdxNode } from 'spdx-expression-parse';
import type { ExtractedLicense } from '../formats/sbom-model.js';

// Both are CommonJS. `require` spares ESM's export scan of their sources, and spdx-correct (whose
// import sorts its tables: ~8 ms) is loaded only when a license string needs correcting, which
// most scans never do (bench/README.md, sbom start-up).
const requireCjs = createRequire(import.meta.url);
let parseFn: ((text: string) => SpdxNode) | undefined;
let correctFn: ((text: string) => string | null) | undefined;
const parse = (text: string): SpdxNode => (parseFn ??= requireCjs('spdx-expression-parse') as (text: string) => SpdxNode)(text);
const correct = (text: string): string | null => (correctFn ??= requireCjs('spdx-correct') as (text: string) => string | null)(text);

export interface NormalizedLicense {
  expression: string;
  /** The LicenseRefs the expression uses, with their original text. */
  refs: ExtractedLicense[];
}

/** Families whose old ids (`GPL-2.0`, `GPL-2.0+`) SPDX replaced with `-only` / `-or-later`. */
const VERSIONED_FAMILIES = /^(GPL|LGPL|AGPL|GFDL)-(\d(?:\.\d+)?)(\+)?$/i;

/** Debian DEP-5 and RPM short names that are not SPDX ids (copyright-format 1.0 §"License specification"). */
const DIALECT: Record<string, string> = {
  expat: 'MIT',
  'public-domain': 'LicenseRef-public-domain',
  'bsd-2-clause': 'BSD-2-Clause',
  'bsd-3-clause': 'BSD-3-Clause',
  'bsd-4-clause': 'BSD-4-Clause',
  artistic: 'Artistic-1.0-Perl',
  'artistic-1.0': 'Artistic-1.0',
  'artistic-2.0': 'Artistic-2.0',
  'apache-2.0': 'Apache-2.0',
  'apache-2': 'Apache-2.0',
  'mpl-1.1': 'MPL-1.1',
  'mpl-2.0': 'MPL-2.0',
  'psf-2': 'PSF-2.0',
  python: 'Python-2.0',
  zlib: 'Zlib',
  isc: 'ISC',
  'cc0-1.0': 'CC0-1.0',
  cc0: 'CC0-1.0',
  'x11': 'X11',
  'perl': 'Artistic-1.0-Perl OR GPL-1.0-or-later',
  'python software foundation license': 'Python-2.0',
  'mit license': 'MIT',
  'bsd license': 'LicenseRef-BSD',
  'apache software license': 'LicenseRef-Apache',
  'apache license 2.0': 'Apache-2.0',
  'apache license, version 2.0': 'Apache-2.0',
  'apache license version 2.0': 'Apache-2.0',
  'apache 2.0 license': 'Apache-2.0',
  'gnu lgpl': 'LicenseRef-LGPL',
  'gnu gpl': 'LicenseRef-GPL',
  'the apache software license, version 2.0': 'Apache-2.0',
  'mozilla public license 2.0 (mpl 2.0)': 'MPL-2.0',
  'isc license (iscl)': 'ISC',
  // RPM (Fedora before its SPDX migration) short names.
  gplv2: 'GPL-2.0-only',
  'gplv2+': 'GPL-2.0-or-later',
  gplv3: 'GPL-3.0-only',
  'gplv3+': 'GPL-3.0-or-later',
  lgplv2: 'LGPL-2.0-only',
  'lgplv2+': 'LGPL-2.0-or-later',
  'lgplv2.1': 'LGPL-2.1-only',
  'lgplv2.1+': 'LGPL-2.1-or-later',
  lgplv3: 'LGPL-3.0-only',
  'lgplv3+': 'LGPL-3.0-or-later',
  asl: 'LicenseRef-ASL',
  'asl 2.0': 'Apache-2.0',
};

/** PyPI trove classifiers → SPDX (https://pypi.org/classifiers/, "License ::" section). */
const CLASSIFIERS: Record<string, string> = {
  'MIT License': 'MIT',
  'BSD License': 'LicenseRef-BSD',
  'Apache Software License': 'LicenseRef-Apache',
  'Python Software Foundation License': 'PSF-2.0',
  'ISC License (ISCL)': 'ISC',
  'Mozilla Public License 2.0 (MPL 2.0)': 'MPL-2.0',
  'GNU General Public License v2 (GPLv2)': 'GPL-2.0-only',
  'GNU General Public License v2 or later (GPLv2+)': 'GPL-2.0-or-later',
  'GNU General Public License v3 (GPLv3)': 'GPL-3.0-only',
  'GNU General Public License v3 or later (GPLv3+)': 'GPL-3.0-or-later',
  'GNU Lesser General Public License v2 (LGPLv2)': 'LGPL-2.0-only',
  'GNU Lesser General Public License v2 or later (LGPLv2+)': 'LGPL-2.0-or-later',
  'GNU Lesser General Public License v3 (LGPLv3)': 'LGPL-3.0-only',
  'GNU Lesser General Public License v3 or later (LGPLv3+)': 'LGPL-3.0-or-later',
  'GNU Library or Lesser General Public License (LGPL)': 'LicenseRef-LGPL',
  'Historical Permission Notice and Disclaimer (HPND)': 'HPND',
  'The Unlicense (Unlicense)': 'Unlicense',
  'Zope Public License': 'LicenseRef-ZPL',
  'Eclipse Public License 2.0 (EPL-2.0)': 'EPL-2.0',
  'Academic Free License (AFL)': 'LicenseRef-AFL',
  'Public Domain': 'LicenseRef-public-domain',
};

/** Maps a PyPI `License :: …` classifier to SPDX; undefined for classifiers that name no license. */
export function licenseFromClassifier(classifier: string): string | undefined {
  const m = /^License ::(?: OSI Approved ::)?(?: (.+))?$/.exec(classifier.trim());
  if (!m || !m[1] || m[1] === 'OSI Approved') return undefined;
  return CLASSIFIERS[m[1].trim()] ?? m[1].trim();
}

function refId(text: string): string {
  const body = text
    .replace(/[^A-Za-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return `LicenseRef-${body || 'unknown'}`;
}

function renderNode(n: SpdxNode, parent?: 'and' | 'or'): string {
  if ('license' in n) {
    let id = n.license;
    const fam = VERSIONED_FAMILIES.exec(id);
    if (fam) {
      const ver = fam[2]!.includes('.') ? fam[2]! : `${fam[2]!}.0`;
      id = `${fam[1]!.toUpperCase()}-${ver}-${n.plus || fam[3] ? 'or-later' : 'only'}`;
    } else if (n.plus) {
      id = `${id}+`;
    }
    return n.exception ? `${id} WITH ${n.exception}` : id;
  }
  const s = `${renderNode(n.left, n.conjunction)} ${n.conjunction.toUpperCase()} ${renderNode(n.right, n.conjunction)}`;
  return parent && parent !== n.conjunction ? `(${s})` : s;
}

// Both lookups are pure and a tree repeats few distinct license strings (460 npm packages use ~20),
// so they are memoized: spdx-correct's candidate search was 20 ms of a 0.35 s node-project scan.
const parsedMemo = new Map<string, string | undefined>();
const correctedMemo = new Map<string, string | null>();

function tryParse(text: string): string | undefined {
  if (parsedMemo.has(text)) return parsedMemo.get(text);
  let out: string | undefined;
  try {
    out = renderNode(parse(text));
  } catch {
    out = undefined;
  }
  parsedMemo.set(text, out);
  return out;
}

function corrected(text: string): string | null {
  let out = correctedMemo.get(text);
  if (out === undefined) {
    out = correct(text);
    correctedMemo.set(text, out);
  }
  return out;
}

/** Exceptions as DEP-5 files name them ("GPL-3+ with Bison exception") → SPDX exception ids. */
function exceptionId(name: string, base: string): string | undefined {
  const n = name.toLowerCase().replace(/[-_\s]+exception$/, '').trim();
  if (n.startsWith('bison')) return 'Bison-exception-2.2';
  if (n === 'autoconf') return base.startsWith('GPL-2') ? 'Autoconf-exception-2.0' : 'Autoconf-exception-3.0';
  if (n === 'texinfo') return 'Texinfo-exception';
  if (n === 'linux-syscall-note') return 'Linux-syscall-note';
  if (n === 'classpath') return 'Classpath-exception-2.0';
  if (n === 'font') return 'Font-exception-2.0';
  return undefined;
}

/** One license name (no conjunctions) to an SPDX id or LicenseRef. */
function atom(raw: string, refs: Map<string, ExtractedLicense>): string {
  const text = raw.trim().replace(/^\(+|\)+$/g, '').trim();
  const parsed = tryParse(text);
  if (parsed) return parsed;
  const withM = /^(.*?)[\s-]+with[\s-]+(.+)$/i.exec(text);
  if (withM) {
    const base = atom(withM[1]!, refs);
    const exc = exceptionId(withM[2]!, base);
    if (exc && !base.includes(' ') && tryParse(`${base} WITH ${exc}`)) return `${base} WITH ${exc}`;
  }
  const lower = text.toLowerCase();
  // An exception outside the SPDX list has no SPDX 2.3 form: keep the base license.
  const base = lower.replace(/\s+with\s+.*$/, '');
  const dialect = DIALECT[base];
  if (dialect) return registerRefs(dialect, text, refs);
  const fam = /^(a?l?gpl|gfdl)-?v?(\d(?:\.\d+)?)(\+)?$/.exec(base);
  if (fam) {
    const ver = fam[2]!.includes('.') ? fam[2]! : `${fam[2]!}.0`;
    const id = `${fam[1]!.toUpperCase()}-${ver}-${fam[3] ? 'or-later' : 'only'}`;
    if (tryParse(id)) return id;
  }
  const fixed = corrected(text);
  // spdx-correct guesses a version for bare names ("BSD" → BSD-2-Clause, "Artistic" → 2.0);
  // a license must not gain a version the package never stated.
  if (fixed && (/\d/.test(text) || !/\d/.test(fixed))) return fixed;
  const id = refId(text);
  if (!refs.has(id)) refs.set(id, { id, name: text, text });
  return id;
}

function registerRefs(expr: string, text: string, refs: Map<string, ExtractedLicense>): string {
  for (const m of expr.matchAll(/LicenseRef-[A-Za-z0-9.-]+/g)) {
    if (!refs.has(m[0])) refs.set(m[0], { id: m[0], name: text, text });
  }
  return expr;
}

/** One license field, which may be an expression in SPDX or in a dialect ("GPL-2+ or Artistic"). */
function field(raw: string, refs: Map<string, ExtractedLicense>): string | undefined {
  const text = raw.trim();
  if (!text || /^(unknown|none|noassertion|see license|see license file|unlicensed)$/i.test(text)) return undefined;
  const parsed = tryParse(text);
  if (parsed) return parsed;
  const whole = DIALECT[text.toLowerCase()];
  if (whole) return registerRefs(whole, text, refs);
  // Dialect expressions: split on and/or (and "," which DEP-5 and RPM use for "and"); "and/or"
  // lets the recipient choose, which is OR.
  const ands = text
    .replace(/\s+and\/or\s+/gi, ' or ').split(/\s+and\s+|\s*,\s*(?:and\s+)?|\s+&\s+/i).filter((s) => s.trim());
  const parts = ands.map((a) => {
    const ors = a.split(/\s+or\s+|\s*\/\s*|\s*\|\s*/i).filter((s) => s.trim());
    const atoms = [...new Set(ors.map((o) => atom(o, refs)))];
    return atoms.length > 1 ? `(${atoms.join(' OR ')})` : atoms[0]!;
  });
  const uniq = [...new Set(parts)];
  if (uniq.length === 1) return uniq[0]!.replace(/^\((.*)\)$/, '$1');
  return uniq.join(' AND ');
}

/**
 * Combines the license fields of one package into one expression: each field normalized, the
 * distinct results joined with AND (a package under several licenses must honour all of them).
 */
export function normalizeLicenses(raws: Iterable<string>): NormalizedLicense | undefined {
  const refs = new Map<string, ExtractedLicense>();
  const exprs: string[] = [];
  for (const raw of raws) {
    const e = field(raw, refs);
    if (e && !exprs.includes(e)) exprs.push(e);
  }
  if (exprs.length === 0) return undefined;
  exprs.sort();
  const expression =
    exprs.length === 1 ? exprs[0]! : exprs.map((e) => (/ (OR|AND) /.test(e) ? `(${e})` : e)).join(' AND ');
  const used = [...refs.values()].filter((r) => expression.includes(r.id));
  return { expression, refs: used };
}
