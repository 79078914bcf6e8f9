/**
 * Security headers on every answer of the API, and CORS: off unless `--cors-origin` names the origins a browser
 * may call from (exact `scheme://host[:port]`). Registered on the root instance, so 404s and errors carry them too.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WireError } from '../core/errors.js';

/** Sent with every answer: no MIME sniffing, no framing, no caching of API answers, no referrer, no scripts. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

/** The docs UI (`/docs`) loads its own scripts and styles, and may be cached. */
const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'";

const ALLOWED_METHODS = 'GET, POST, PUT, DELETE';
const ALLOWED_HEADERS = 'authorization, content-type';
const PREFLIGHT_MAX_AGE = '600';

/** `--cors-origin`: each an exact origin, `https://host[:port]` or `http://…`, no path. */
export function parseCorsOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WireError('INVALID_INPUT', `--cors-origin: '${text}' is not an origin (scheme://host[:port])`, { flag: '--cors-origin' });
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== text.replace(/\/$/, '')) {
    throw new WireError('INVALID_INPUT', `--cors-origin: '${text}' is not an origin (scheme://host[:port], no path)`, { flag: '--cors-origin' });
  }
  return url.origin;
}

function isDocs(request: FastifyRequest): boolean {
  return request.url === '/docs' || request.url.startsWith('/docs/');
}

/** Adds the headers and the CORS answers to an API instance. */
export function securityHeaders(api: FastifyInstance, corsOrigins: readonly string[]): void {
  const allowed = new Set(corsOrigins);
  api.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    void reply.headers(SECURITY_HEADERS);
    if (isDocs(request)) void reply.header('content-security-policy', DOCS_CSP).header('cache-control', 'no-cache');
    const origin = request.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return;
    void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      // A preflight from an allowed origin: answered here, no route runs.
      await reply
        .code(204)
        .header('access-control-allow-methods', ALLOWED_METHODS)
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', PREFLIGHT_MAX_AGE)
        .send();
    }
  });
}
