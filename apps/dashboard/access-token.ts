import { createHash, timingSafeEqual } from 'node:crypto';
import { clientAddressOf, type ClientAddressSource } from './client-address.js';
import { tryAgainIn, type CredentialFailures } from './credential-failures.js';
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

/** How the gate and the sign-in form check a credential, and whose failures they count. */
export interface AccessCheck {
  token: string;
  failures: CredentialFailures;
  clientAddress: ClientAddressSource;
  /** Whether browsers reach the dashboard over https: the cookie is `Secure` only then. */
  secureCookie: boolean;
}

export function tooManyFailures(ms: number): HttpError {
  return new HttpError(429, 'TOO_MANY_FAILED_CREDENTIALS', `too many wrong access tokens from this address: ${tryAgainIn(ms)}`);
}

/**
 * The dashboard's gate: one access token that scripts send as `Authorization: Bearer <token>`
 * and browsers present once at /login, which keeps it in an HttpOnly, SameSite=Strict cookie
 * (Secure over https). Compared in constant time. A wrong bearer token or cookie counts against
 * the client's address, and an address past the limit is refused before its credential is
 * looked at (credential-failures.ts). The cookie header is parsed by @fastify/cookie, which
 * leaves a malformed %-escape as it is instead of throwing.
 */
export function accessTokenGate({ token, failures, clientAddress }: AccessCheck): Guard {
  const matches = tokenMatcher(token);
  return async (request, reply) => {
    if (OPEN_PATHS.has(pathOf(request))) return;
    const address = clientAddressOf(request, clientAddress);
    const refused = await failures.refusedFor(address);
    if (refused !== null) {
      reply.header('retry-after', Math.ceil(refused / 1000));
      throw tooManyFailures(refused);
    }
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const cookie = request.server.parseCookie(request.headers.cookie ?? '')[TOKEN_COOKIE];
    if (matches(bearer) || matches(cookie)) return;
    // No credential at all is a visitor who has not signed in yet, not a guess.
    if (bearer !== undefined || cookie !== undefined) {
      const nowRefused = await failures.failed(address);
      if (nowRefused !== null) {
        reply.header('retry-after', Math.ceil(nowRefused / 1000));
        throw tooManyFailures(nowRefused);
      }
    }
    if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/html') && !request.headers['hx-request']) {
      return reply.redirect('/login', 303);
    }
    throw new HttpError(401, 'UNAUTHORIZED', 'an access token is required (Authorization: Bearer <token>, or sign in at /login)');
  };
}
