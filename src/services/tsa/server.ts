/**
 * RFC 3161 over HTTP (§3.4): POST a DER TimeStampReq as `application/timestamp-query`, get a DER
 * TimeStampResp as `application/timestamp-reply`. The same endpoint takes the JSON request of
 * Sigstore's timestamp-authority (`{artifactHash, hashAlgorithm, nonce?, certificates?,
 * tsaPolicyOID?}`), which sigstore-js sends, and answers it with the same DER reply.
 * GET …/certchain returns the TSA certificate chain as PEM.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SigilError } from '../../core/errors.js';
import { fromBase64 } from '../../core/encoding.js';
import { isObject, parseJson } from '../../core/json.js';
import { encodePem } from '../../core/pem.js';
import { HttpError, RateLimiter, readBody, router, sendBytes, type Route } from '../http.js';
import { TimestampAuthority, TimestampRejection } from './authority.js';

const MAX_REQUEST = 16 * 1024;

function nonceBytes(n: unknown): Buffer | undefined {
  if (n === undefined || n === null) return undefined;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) {
    const hex = n.toString(16);
    return Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex');
  }
  if (typeof n === 'string' && /^\d{1,40}$/.test(n)) {
    const hex = BigInt(n).toString(16);
    return Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex');
  }
  throw new TimestampRejection('badRequest', 'nonce must be a non-negative integer');
}

async function handle(tsa: TimestampAuthority, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const body = await readBody(req, MAX_REQUEST);
  if (type === 'application/timestamp-query') {
    let der: Buffer;
    try {
      der = await tsa.stamp(tsa.parseRequest(body));
    } catch (e) {
      if (!(e instanceof TimestampRejection)) throw e;
      der = tsa.rejection(e);
    }
    sendBytes(res, 200, 'application/timestamp-reply', der);
    return;
  }
  if (type === 'application/json') {
    const doc = parseJson(body, 'timestamp request', 'USAGE');
    if (!isObject(doc) || typeof doc.artifactHash !== 'string') throw new SigilError('USAGE', 'JSON timestamp request needs artifactHash (base64)');
    const alg = typeof doc.hashAlgorithm === 'string' ? doc.hashAlgorithm.toLowerCase().replace('-', '') : 'sha256';
    try {
      const parsed = tsa.checkRequest({
        hashAlgorithmOid: tsa.hashOid(alg),
        hashedMessage: fromBase64(doc.artifactHash, 'artifactHash'),
        nonce: nonceBytes(doc.nonce),
        policy: typeof doc.tsaPolicyOID === 'string' && doc.tsaPolicyOID !== '' ? doc.tsaPolicyOID : undefined,
        certReq: doc.certificates === true,
      });
      sendBytes(res, 200, 'application/timestamp-reply', await tsa.stamp(parsed));
    } catch (e) {
      if (e instanceof TimestampRejection) throw new HttpError(400, 'TIMESTAMP_MALFORMED', `${e.failure}: ${e.message}`);
      throw e;
    }
    return;
  }
  throw new HttpError(415, 'USAGE', `content type '${type}' is not supported`, 'send application/timestamp-query (DER) or application/json');
}

export function tsaRoutes(tsa: TimestampAuthority): Route[] {
  const chainPem = () => tsa.chain.map((c) => encodePem('CERTIFICATE', c)).join('');
  return [
    { method: 'POST', path: '/api/v1/timestamp', handler: (req, res) => handle(tsa, req, res) },
    { method: 'POST', path: '/', handler: (req, res) => handle(tsa, req, res) },
    { method: 'GET', path: '/api/v1/timestamp/certchain', handler: (_req, res) => sendBytes(res, 200, 'application/pem-certificate-chain', chainPem()) },
  ];
}

export function tsaHandler(tsa: TimestampAuthority, rateLimiter = new RateLimiter(2000, 4000)) {
  return router(tsaRoutes(tsa), { name: 'tsa', rateLimiter });
}
