import fastifyCookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance } from 'fastify';
import { handleError } from './error-handler.js';
import { HttpError } from './http-errors.js';
import { pathOf, type Guard } from './same-origin.js';
import { html } from './views/html.js';

export const TOKEN_COOKIE = 'eda_token';
/** Open without the token: App Service's health check, signing in and out, and the stylesheet. */
const OPEN_PATHS = new Set(['/healthz', '/login', '/logout', '/static/dashboard.css']);
/**
 * Sign-in attempts per client and minute. Behind App Service's front ends the client is the
 * front end, so the limit is shared by everyone signing in; scripts with a bearer token are
 * not counted. A 24-character token cannot be guessed at this rate either way.
 */
const LOGIN_ATTEMPTS_PER_MINUTE = 10;
const COOKIE_OPTIONS = { path: '/', httpOnly: true, secure: true, sameSite: 'strict', maxAge: 7 * 24 * 3600 } as const;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function tokenMatcher(token: string): (candidate: string | undefined) => boolean {
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

/** /login (rate-limited) and /logout; registers the cookie parser the gate uses. */
export async function signInRoutes(app: FastifyInstance, token: string): Promise<void> {
  const matches = tokenMatcher(token);
  await app.register(fastifyCookie);
  await app.register(async (scope) => {
    await scope.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) =>
        new HttpError(429, 'TOO_MANY_SIGN_INS', `too many sign-in attempts: try again in ${context.after}`),
    });
    // The form is a plain HTML page, so its errors are the page again, with the reason.
    scope.setErrorHandler((error: FastifyError, request, reply) => {
      if (error.statusCode === 429) return reply.code(429).type('text/html; charset=utf-8').send(loginPage(error.message).value);
      return handleError(error, request, reply);
    });

    scope.get('/login', async (_request, reply) => reply.type('text/html; charset=utf-8').send(loginPage('').value));

    scope.post<{ Body: { token?: string } }>(
      '/login',
      {
        config: { rateLimit: { max: LOGIN_ATTEMPTS_PER_MINUTE, timeWindow: 60_000 } },
        schema: { body: { type: 'object', properties: { token: { type: 'string', maxLength: 512 } } } },
      },
      async (request, reply) => {
        const candidate = request.body.token ?? '';
        if (!matches(candidate)) {
          return reply.code(401).type('text/html; charset=utf-8').send(loginPage('That is not the access token.').value);
        }
        reply.setCookie(TOKEN_COOKIE, candidate, COOKIE_OPTIONS);
        return reply.redirect('/', 303);
      },
    );

    scope.post('/logout', async (_request, reply) => {
      reply.clearCookie(TOKEN_COOKIE, { path: COOKIE_OPTIONS.path, httpOnly: true, secure: true, sameSite: 'strict' });
      return reply.redirect('/login', 303);
    });
  });
}

function loginPage(error: string) {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · event-driven-aci</title>
<link rel="stylesheet" href="/static/dashboard.css"></head>
<body><main>
  <h1>event-driven-aci</h1>
  <form method="post" action="/login" class="add-work">
    <label for="token">Access token (<code>pulumi stack output dashboardToken --show-secrets</code>)</label>
    <input id="token" name="token" type="password" required autocomplete="current-password">
    <button type="submit">Sign in</button>
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
  </form>
</main></body></html>`;
}
