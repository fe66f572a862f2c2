/**
 * Fulcio v2 HTTP API (fulcio.proto, JSON over HTTP as Fulcio's gRPC gateway serves it):
 * POST /api/v2/signingCert, GET /api/v2/trustBundle, GET /api/v2/configuration.
 * Bodies are capped (config.maxRequestBytes) and each client address has a token bucket.
 */
import { encodePem } from '../../core/pem.js';
import { RateLimiter, readBody, router, sendJson, type Route } from '../http.js';
import type { CertificateAuthority } from './authority.js';
import { parseSigningCertRequest } from './request.js';

export function caRoutes(ca: CertificateAuthority): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/v2/signingCert',
      handler: async (req, res) => {
        const body = await readBody(req, ca.config.maxRequestBytes);
        const auth = req.headers.authorization;
        const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
        const issued = await ca.issue(parseSigningCertRequest(body, bearer));
        const chain = { certificates: issued.chain.map((c) => encodePem('CERTIFICATE', c)) };
        sendJson(res, 200, issued.sct ? { signedCertificateEmbeddedSct: { chain } } : { signedCertificateDetachedSct: { chain } });
      },
    },
    { method: 'GET', path: '/api/v2/trustBundle', handler: (_req, res) => sendJson(res, 200, ca.trustBundle()) },
    { method: 'GET', path: '/api/v2/configuration', handler: (_req, res) => sendJson(res, 200, ca.configuration()) },
  ];
}

export function caHandler(ca: CertificateAuthority) {
  return router(caRoutes(ca), { name: 'ca', rateLimiter: new RateLimiter(ca.config.rateLimit.perSecond, ca.config.rateLimit.burst) });
}
