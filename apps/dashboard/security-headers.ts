import type { Guard } from './same-origin.js';
import type { ServedAs } from './served-as.js';

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

// A year, the value browsers' preload lists ask for. App Service's "HTTPS Only" redirects http
// to https but sends no Strict-Transport-Security, so the first request could still go out in clear.
const HSTS = 'max-age=31536000';

export function securityHeaders({ scheme }: ServedAs): Guard {
  return async (_request, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    if (scheme === 'https') reply.header('strict-transport-security', HSTS);
  };
}
