/**
 * RFC 6962 §4 HTTP API of the CT log: add-chain, add-pre-chain, get-sth, get-sth-consistency,
 * get-proof-by-hash, get-entries, get-roots. Submissions are size-capped (a chain of a few
 * certificates is a few KiB) and rate-limited per client.
 */
import { SigilError } from '../../core/errors.js';
import { fromBase64 } from '../../core/encoding.js';
import { isObject, parseJson } from '../../core/json.js';
import { RateLimiter, readBody, router, sendJson, type Route } from '../http.js';
import { sctToJson } from '../pki/sct.js';
import type { CtLog } from './log.js';

const MAX_CHAIN_BODY = 256 * 1024;
const MAX_CHAIN_LENGTH = 10;

function parseChain(body: Buffer): Buffer[] {
  const doc = parseJson(body, 'add-chain request', 'USAGE');
  if (!isObject(doc) || !Array.isArray(doc.chain) || doc.chain.length === 0 || doc.chain.length > MAX_CHAIN_LENGTH) {
    throw new SigilError('USAGE', `request must be {"chain": [base64 DER, ...]} with 1 to ${MAX_CHAIN_LENGTH} certificates`);
  }
  return doc.chain.map((c, i) => {
    if (typeof c !== 'string') throw new SigilError('USAGE', `chain[${i}] must be a base64 string`);
    return fromBase64(c, `chain[${i}]`);
  });
}

function intParam(url: URL, name: string): number {
  const v = url.searchParams.get(name);
  if (v === null || !/^\d{1,15}$/.test(v)) throw new SigilError('USAGE', `query parameter ${name} must be a non-negative integer`);
  return Number(v);
}

export function ctLogRoutes(log: CtLog): Route[] {
  return [
    {
      method: 'POST',
      path: '/ct/v1/add-chain',
      handler: async (req, res) => sendJson(res, 200, sctToJson(await log.addChain(parseChain(await readBody(req, MAX_CHAIN_BODY))))),
    },
    {
      method: 'POST',
      path: '/ct/v1/add-pre-chain',
      handler: async (req, res) => sendJson(res, 200, sctToJson(await log.addPreChain(parseChain(await readBody(req, MAX_CHAIN_BODY))))),
    },
    { method: 'GET', path: '/ct/v1/get-sth', handler: async (_req, res) => sendJson(res, 200, await log.signedTreeHead()) },
    {
      method: 'GET',
      path: '/ct/v1/get-sth-consistency',
      handler: (_req, res, url) =>
        sendJson(res, 200, { consistency: log.consistency(intParam(url, 'first'), intParam(url, 'second')).map((h) => h.toString('base64')) }),
    },
    {
      method: 'GET',
      path: '/ct/v1/get-proof-by-hash',
      handler: (_req, res, url) => {
        const hash = fromBase64(url.searchParams.get('hash') ?? '', 'hash');
        if (hash.length !== 32) throw new SigilError('USAGE', 'hash must be a base64 SHA-256 leaf hash');
        const p = log.proofByHash(hash, intParam(url, 'tree_size'));
        sendJson(res, 200, { leaf_index: p.leaf_index, audit_path: p.audit_path.map((h) => h.toString('base64')) });
      },
    },
    {
      method: 'GET',
      path: '/ct/v1/get-entries',
      handler: (_req, res, url) => sendJson(res, 200, { entries: log.entries(intParam(url, 'start'), intParam(url, 'end')) }),
    },
    {
      method: 'GET',
      path: '/ct/v1/get-roots',
      handler: (_req, res) => sendJson(res, 200, { certificates: log.validator.rootsDer.map((c) => c.toString('base64')) }),
    },
  ];
}

export function ctLogHandler(log: CtLog, rateLimiter = new RateLimiter(5000, 10000)) {
  return router(ctLogRoutes(log), { name: 'ctlog', rateLimiter });
}
