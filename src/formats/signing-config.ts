/**
 * Sigstore's signing configuration (protobuf-specs sigstore_trustroot.proto `SigningConfig`,
 * media type application/vnd.dev.sigstore.signingconfig.v0.2+json): which CA, OIDC provider,
 * transparency logs and timestamp authorities a client signs with, and how to choose among them.
 *
 * Selection follows the proto's rules: a service must speak an API version the client supports
 * (the highest one wins), be within its validity window (inclusive), and among those the newest
 * start date wins; logs and TSAs are grouped by operator and at most one per operator is used,
 * with ALL / ANY / EXACT(count) deciding how many operators.
 */
import { SigilError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import { ProtoReader } from './proto-json.js';

export const SIGNING_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

export interface ServiceEntry {
  url: string;
  majorApiVersion: number;
  validFor: { start: Date; end?: Date };
  operator: string;
}

export type ServiceSelector = 'ALL' | 'ANY' | 'EXACT';

export interface ServiceConfiguration {
  selector: ServiceSelector;
  count?: number;
}

export interface SigningConfig {
  caUrls: ServiceEntry[];
  oidcUrls: ServiceEntry[];
  rekorTlogUrls: ServiceEntry[];
  rekorTlogConfig: ServiceConfiguration;
  tsaUrls: ServiceEntry[];
  tsaConfig: ServiceConfiguration;
}

const r: ProtoReader = new ProtoReader('SIGNING_CONFIG_MALFORMED');

function services(v: unknown, path: string): ServiceEntry[] {
  if (v === undefined) return [];
  return r.array(v, path).map((s, i) => {
    const p = `${path}[${i}]`;
    const o = r.object(s, p);
    const url = r.nonEmptyString(o.url, `${p}.url`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return r.fail(`${p}.url`, `'${url}' is not an absolute URL`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') r.fail(`${p}.url`, 'must be http(s)');
    const version = o.majorApiVersion ?? o.major_api_version;
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 0 || version > 0xffffffff) r.fail(`${p}.majorApiVersion`, 'must be a uint32');
    const vf = r.object(o.validFor ?? o.valid_for, `${p}.validFor`);
    const start = r.timestamp(vf.start, `${p}.validFor.start`);
    const end = vf.end === undefined ? undefined : r.timestamp(vf.end, `${p}.validFor.end`);
    if (end && end < start) r.fail(`${p}.validFor`, 'ends before it starts');
    const operator = r.nonEmptyString(o.operator, `${p}.operator`);
    return { url, majorApiVersion: version, validFor: end ? { start, end } : { start }, operator };
  });
}

function serviceConfig(v: unknown, path: string, count: number): ServiceConfiguration {
  if (v === undefined) return { selector: 'ANY' };
  const o = r.object(v, path);
  const sel = o.selector;
  if (sel !== 'ALL' && sel !== 'ANY' && sel !== 'EXACT') r.fail(`${path}.selector`, 'must be ALL, ANY or EXACT');
  if (sel === 'EXACT') {
    const c = o.count;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > count) r.fail(`${path}.count`, `must be between 1 and the number of services (${count}) for EXACT`);
    return { selector: sel, count: c };
  }
  return { selector: sel };
}

export function parseSigningConfig(input: string | Uint8Array | unknown): SigningConfig {
  const doc = typeof input === 'string' || input instanceof Uint8Array ? parseJson(input, 'signing config', 'SIGNING_CONFIG_MALFORMED') : input;
  const o = r.object(doc, 'signingConfig');
  const mt = o.mediaType ?? o.media_type;
  if (mt !== SIGNING_CONFIG_MEDIA_TYPE) {
    throw new SigilError('SIGNING_CONFIG_MALFORMED', `signing config media type ${JSON.stringify(mt)} is not ${SIGNING_CONFIG_MEDIA_TYPE}`, {
      hint: 'sigil reads signing config v0.2',
    });
  }
  const rekorTlogUrls = services(o.rekorTlogUrls ?? o.rekor_tlog_urls, 'rekorTlogUrls');
  const tsaUrls = services(o.tsaUrls ?? o.tsa_urls, 'tsaUrls');
  return {
    caUrls: services(o.caUrls ?? o.ca_urls, 'caUrls'),
    oidcUrls: services(o.oidcUrls ?? o.oidc_urls, 'oidcUrls'),
    rekorTlogUrls,
    rekorTlogConfig: serviceConfig(o.rekorTlogConfig ?? o.rekor_tlog_config, 'rekorTlogConfig', rekorTlogUrls.length),
    tsaUrls,
    tsaConfig: serviceConfig(o.tsaConfig ?? o.tsa_config, 'tsaConfig', tsaUrls.length),
  };
}

/** protobuf JSON Timestamp: no fraction when the milliseconds are zero, as protojson writes it. */
function rfc3339(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

function serviceJson(s: ServiceEntry): Record<string, unknown> {
  return {
    url: s.url,
    majorApiVersion: s.majorApiVersion,
    validFor: { start: rfc3339(s.validFor.start), ...(s.validFor.end ? { end: rfc3339(s.validFor.end) } : {}) },
    operator: s.operator,
  };
}

/** The protobuf JSON form, field order as in the proto. */
export function signingConfigToJSON(c: SigningConfig): Record<string, unknown> {
  const cfg = (s: ServiceConfiguration) => ({ selector: s.selector, ...(s.count !== undefined ? { count: s.count } : {}) });
  return {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: c.caUrls.map(serviceJson),
    oidcUrls: c.oidcUrls.map(serviceJson),
    rekorTlogUrls: c.rekorTlogUrls.map(serviceJson),
    rekorTlogConfig: cfg(c.rekorTlogConfig),
    tsaUrls: c.tsaUrls.map(serviceJson),
    tsaConfig: cfg(c.tsaConfig),
  };
}

function validAt(s: ServiceEntry, at: Date): boolean {
  return s.validFor.start <= at && (s.validFor.end === undefined || at <= s.validFor.end);
}

/** Candidates valid at `at` with the highest supported API version, newest start first. */
function candidates(list: ServiceEntry[], supported: readonly number[], at: Date): ServiceEntry[] {
  const usable = list.filter((s) => supported.includes(s.majorApiVersion) && validAt(s, at));
  if (usable.length === 0) return [];
  const best = Math.max(...usable.map((s) => s.majorApiVersion));
  // Stable sort keeps file order among equal starts ("SHOULD select the first").
  return usable.filter((s) => s.majorApiVersion === best).sort((a, b) => b.validFor.start.getTime() - a.validFor.start.getTime());
}

/** One service (CA, OIDC): the proto's "select only one Service" rule; undefined when none fits. */
export function selectService(list: ServiceEntry[], supported: readonly number[], at = new Date()): ServiceEntry | undefined {
  return candidates(list, supported, at)[0];
}

/** Logs and TSAs: at most one per operator, as many operators as the configuration asks for. */
export function selectServices(list: ServiceEntry[], config: ServiceConfiguration, supported: readonly number[], at = new Date()): ServiceEntry[] {
  const perOperator: ServiceEntry[] = [];
  for (const s of candidates(list, supported, at)) if (!perOperator.some((p) => p.operator === s.operator)) perOperator.push(s);
  switch (config.selector) {
    case 'ALL':
      return perOperator;
    case 'ANY':
      return perOperator.slice(0, 1);
    case 'EXACT': {
      const n = config.count ?? 1;
      if (perOperator.length < n) {
        throw new SigilError('SIGNING_CONFIG_MALFORMED', `signing config asks for ${n} services from distinct operators but only ${perOperator.length} are usable`, {
          hint: 'check the validity windows and API versions in the signing config',
        });
      }
      return perOperator.slice(0, n);
    }
  }
}
