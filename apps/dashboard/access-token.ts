import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-errors.js';
import { html } from './views/html.js';

export const TOKEN_COOKIE = 'eda_token';
/** Open without the token: App Service's health check, the login page and its stylesheet. */
const OPEN_PATHS = new Set(['/healthz', '/login', '/static/dashboard.css']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

/**
 * The deployed dashboard's gate: one access token (a Pulumi secret) that scripts send as
 * `Authorization: Bearer <token>` and browsers present once at /login, which keeps it in an
 * HttpOnly, Secure, SameSite=Strict cookie. Compared in constant time.
 */
export function requireAccessToken(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  const matches = (candidate: string | undefined) => candidate !== undefined && timingSafeEqual(digest(candidate), expected);

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    if (OPEN_PATHS.has(path)) return;
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (matches(bearer) || matches(readCookie(request, TOKEN_COOKIE))) return;
    if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/html') && !request.headers['hx-request']) {
      return reply.redirect('/login', 303);
    }
    throw new HttpError(401, 'UNAUTHORIZED', 'an access token is required (Authorization: Bearer <token>, or sign in at /login)');
  });

  app.get('/login', async (_request, reply) => reply.type('text/html; charset=utf-8').send(loginPage('').value));

  app.post<{ Body: { token?: string } }>(
    '/login',
    { schema: { body: { type: 'object', properties: { token: { type: 'string', maxLength: 512 } } } } },
    async (request, reply) => {
      const candidate = request.body.token ?? '';
      if (!matches(candidate)) {
        return reply.code(401).type('text/html; charset=utf-8').send(loginPage('That is not the access token.').value);
      }
      reply.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(candidate)}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=604800`);
      return reply.redirect('/', 303);
    },
  );
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
