import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses a state-changing request that a browser sent from another site (CSRF). Browsers
 * mark every request with Sec-Fetch-Site, and a cross-origin POST with Origin; scripts such as
 * curl send neither and are let through, since they carry no victim's cookies.
 */
export async function refuseCrossOrigin(request: FastifyRequest): Promise<void> {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new HttpError(403, 'CROSS_ORIGIN', `a ${site} request may not change anything here`);
  }
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let sameHost: boolean;
    try {
      const from = new URL(origin);
      // Compared as URLs, so a default port written out (":80") matches one left out.
      sameHost = from.host === new URL(`${from.protocol}//${request.headers.host ?? ''}`).host;
    } catch {
      throw new HttpError(403, 'CROSS_ORIGIN', `the Origin header "${origin}" is not a URL`);
    }
    if (!sameHost) {
      throw new HttpError(403, 'CROSS_ORIGIN', `a request from ${origin} may not change anything here`);
    }
  } else if (origin === 'null') {
    throw new HttpError(403, 'CROSS_ORIGIN', 'a request from an opaque origin may not change anything here');
  }
}

// Scripts only from this server, no eval, no inline handlers: a message that slipped past
// escaping still could not run.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function securityHeaders(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'same-origin');
}
