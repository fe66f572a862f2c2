/**
 * `sigil up`: the whole keyless stack in one process on 127.0.0.1, one port, one state
 * directory — development OIDC issuer (/oidc), CA (/ca, Fulcio v2 API), CT log (/ctlog, RFC 6962),
 * timestamp authority (/tsa, RFC 3161) and, when available, the transparency log (/log).
 * Once every service answers over HTTP, `signing_config.json` and `trusted_root.json` are
 * written into the state directory for clients (sigil, sigstore-js, cosign) to use.
 *
 * The CA hands precertificates to the CT log in-process (same code path as add-pre-chain, minus
 * the HTTP hop); everything else is reached over HTTP exactly as a client would.
 */
import { get as httpGet } from 'node:http';
import type { ScryptParams } from '../crypto/cosign-key.js';
import { SigilError } from '../core/errors.js';
import { CertificateAuthority } from './ca/authority.js';
import { caConfigToJson, parseCaConfig, type CaConfig } from './ca/config.js';
import { caHandler } from './ca/server.js';
import { CtLog } from './ctlog/log.js';
import { ctLogHandler } from './ctlog/server.js';
import { listen, mount, type RequestListener, type RunningServer } from './http.js';
import { DEV_ISSUER_WARNING, DevOidcIssuer, type DevIdentity } from './oidc-dev/issuer.js';
import { devOidcHandler } from './oidc-dev/server.js';
import { StateDir, loadCaIssuer, loadTsaChain } from './state.js';
import { signingConfigJson, trustedRootJson, type LogEntry } from './trust-documents.js';
import { TimestampAuthority } from './tsa/authority.js';
import { tsaHandler } from './tsa/server.js';
import { embeddedTlog } from './up-tlog.js';

export const DEFAULT_PORT = 5555;
export const DEFAULT_IDENTITY: DevIdentity = { subject: 'dev@sigil.local', email: 'dev@sigil.local' };

/** A transparency log plugged into the stack (the log service registers itself through this). */
export interface TlogMount {
  handler: RequestListener;
  /** Path under the stack URL, e.g. '/log'. */
  prefix: string;
  majorApiVersion: number;
  trustedRootEntry: (baseUrl: string) => LogEntry;
  close?: () => Promise<void> | void;
}

export interface StackOptions {
  stateDir: string;
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  env?: NodeJS.ProcessEnv;
  identity?: DevIdentity;
  /** Lower scrypt cost for tests; production keeps cosign's N=32768. */
  scrypt?: ScryptParams;
  /** Starts the transparency log once the URL is known (default: the embedded log); false → no /log service. */
  tlog?: false | ((ctx: { state: StateDir; baseUrl: string }) => Promise<TlogMount>);
}

export interface Stack {
  url: string;
  urls: { oidc: string; ca: string; ctlog: string; tsa: string; tlog: string | undefined };
  state: StateDir;
  ca: CertificateAuthority;
  ctLog: CtLog;
  tsa: TimestampAuthority;
  oidc: DevOidcIssuer;
  signingConfigPath: string;
  trustedRootPath: string;
  caConfigPath: string;
  close(): Promise<void>;
}

/** Keeps user-added issuers from ca/config.json and replaces the dev issuer entry with the current URL. */
function caConfigFor(state: StateDir, devIssuerUrl: string): CaConfig {
  const existing = state.readJson('ca', 'config.json');
  const base = typeof existing === 'object' && existing !== null ? (existing as Record<string, unknown>) : {};
  const others = Array.isArray(base.issuers) ? base.issuers.filter((i) => !(typeof i === 'object' && i !== null && (i as { dev?: unknown }).dev === true)) : [];
  const doc = { ...base, issuers: [{ url: devIssuerUrl, type: 'email', dev: true }, ...others] };
  const config = parseCaConfig(doc);
  const json = caConfigToJson(config);
  (json.issuers as Record<string, unknown>[])[0]!.dev = true;
  state.writeJson(json, 'ca', 'config.json');
  return config;
}

/** GET over a fresh connection (no pooled socket that may belong to an earlier run on the same port). */
function expectOk(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new SigilError('NETWORK', `self-check of ${url} answered HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (e) => reject(new SigilError('NETWORK', `self-check of ${url} failed: ${e.message}`, { cause: e })));
  });
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const state = new StateDir(opts.stateDir, opts.env ?? process.env, opts.scrypt);
  const start = state.createdAt();
  const services: Record<string, RequestListener> = {};
  const urls = { oidc: '', ca: '', ctlog: '', tsa: '', tlog: undefined as string | undefined };
  const server: RunningServer = await listen(
    mount(services, () => ({ service: 'sigil keyless stack', urls, note: DEV_ISSUER_WARNING })),
    opts.port ?? DEFAULT_PORT,
    opts.host ?? '127.0.0.1',
  );
  const toClose: (() => Promise<void> | void)[] = [() => server.close()];
  try {
    const base = server.url;
    urls.oidc = `${base}/oidc`;
    urls.ca = `${base}/ca`;
    urls.ctlog = `${base}/ctlog`;
    urls.tsa = `${base}/tsa/api/v1/timestamp`;

    const identity = opts.identity ?? DEFAULT_IDENTITY;
    const oidcSigner = state.signer('oidc');
    const oidc = new DevOidcIssuer(urls.oidc, oidcSigner.privateKey, identity);
    state.writeJson({ url: urls.oidc, ...identity }, 'oidc', 'issuer.json');
    services['/oidc'] = devOidcHandler(oidc);

    const issuer = await loadCaIssuer(state);
    const ctSigner = state.signer('ctlog');
    const ctLog = new CtLog({ path: state.path('ctlog', 'ctlog.sqlite'), signer: ctSigner, roots: [issuer.chain[issuer.chain.length - 1]!] });
    toClose.push(() => ctLog.close());
    services['/ctlog'] = ctLogHandler(ctLog);

    const config = caConfigFor(state, urls.oidc);
    const ca = new CertificateAuthority({ issuer, config, ct: ctLog, ctLogKey: ctSigner.publicKey });
    services['/ca'] = caHandler(ca);

    const tsaKeys = await loadTsaChain(state);
    const tsa = new TimestampAuthority({ signer: tsaKeys.signer, chain: tsaKeys.chain });
    services['/tsa'] = tsaHandler(tsa);

    let tlog: TlogMount | undefined;
    const startTlog = opts.tlog === undefined ? embeddedTlog : opts.tlog;
    if (startTlog) {
      tlog = await startTlog({ state, baseUrl: base });
      if (tlog.close) toClose.push(tlog.close);
      services[tlog.prefix] = tlog.handler;
      urls.tlog = `${base}${tlog.prefix}`;
    }

    await Promise.all([
      expectOk(`${urls.oidc}/.well-known/openid-configuration`),
      expectOk(`${urls.ca}/api/v2/configuration`),
      expectOk(`${urls.ctlog}/ct/v1/get-sth`),
      expectOk(`${base}/tsa/api/v1/timestamp/certchain`),
      ...(urls.tlog ? [expectOk(`${urls.tlog}/checkpoint`)] : []),
    ]);

    const signingConfigPath = state.writeJson(
      signingConfigJson({
        ca: urls.ca,
        oidc: urls.oidc,
        tlogs: tlog && urls.tlog ? [{ url: urls.tlog, majorApiVersion: tlog.majorApiVersion }] : [],
        tsa: urls.tsa,
        start,
        operator: 'sigil.local',
      }),
      'signing_config.json',
    );
    const trustedRootPath = state.writeJson(
      trustedRootJson({
        cas: [{ uri: urls.ca, chain: issuer.chain, organization: 'sigil', commonName: 'sigil CA', start }],
        ctlogs: [{ baseUrl: urls.ctlog, publicKey: ctSigner.publicKey, keyDetails: ctSigner.keyDetails, start }],
        tlogs: tlog && urls.tlog ? [tlog.trustedRootEntry(urls.tlog)] : [],
        tsas: [{ uri: urls.tsa, chain: tsaKeys.chain, organization: 'sigil', commonName: 'sigil TSA', start }],
      }),
      'trusted_root.json',
    );
    return {
      url: base,
      urls,
      state,
      ca,
      ctLog,
      tsa,
      oidc,
      signingConfigPath,
      trustedRootPath,
      caConfigPath: state.path('ca', 'config.json'),
      close: async () => {
        for (const c of toClose.reverse()) await c();
      },
    };
  } catch (e) {
    for (const c of toClose.reverse()) await c();
    throw e;
  }
}
