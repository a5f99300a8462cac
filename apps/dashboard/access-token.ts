import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './http-errors.js';
import { pathOf, type Guard } from './same-origin.js';

export const TOKEN_COOKIE = 'eda_token';
/** Open without the token: App Service's health check, signing in and out, and the stylesheet. */
const OPEN_PATHS = new Set(['/healthz', '/login', '/logout', '/static/dashboard.css', '/static/favicon.svg', '/favicon.ico']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function tokenMatcher(token: string): (candidate: string | undefined) => boolean {
  const expected = digest(token);
  return (candidate) => candidate !== undefined && timingSafeEqual(digest(candidate), expected);
}

/**
 * The deployed dashboard's gate: one access token (a Pulumi secret) that scripts send as
 * `Authorization: Bearer <token>` and browsers present once at /login, which keeps it in an
 * HttpOnly, Secure, SameSite=Strict cookie. Compared in constant time. The cookie header is
 * parsed by @fastify/cookie, which leaves a malformed %-escape as it is instead of throwing.
 */
export function accessTokenGate(token: string): Guard {
  const matches = tokenMatcher(token);
  return async (request, reply) => {
    if (OPEN_PATHS.has(pathOf(request))) return;
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const cookie = request.server.parseCookie(request.headers.cookie ?? '')[TOKEN_COOKIE];
    if (matches(bearer) || matches(cookie)) return;
    if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/html') && !request.headers['hx-request']) {
      return reply.redirect('/login', 303);
    }
    throw new HttpError(401, 'UNAUTHORIZED', 'an access token is required (Authorization: Bearer <token>, or sign in at /login)');
  };
}
