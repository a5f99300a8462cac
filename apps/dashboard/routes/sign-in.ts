import fastifyCookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import type { FastifyError, FastifyInstance } from 'fastify';
import { TOKEN_COOKIE, tokenMatcher } from '../access-token.js';
import { handleError } from '../error-handler.js';
import { HttpError } from '../http-errors.js';
import { loginPage } from '../views/login.js';

/**
 * Sign-in attempts per client and minute. Behind App Service's front ends the client is the
 * front end, so the limit is shared by everyone signing in; scripts with a bearer token are
 * not counted. A 24-character token cannot be guessed at this rate either way.
 */
const LOGIN_ATTEMPTS_PER_MINUTE = 10;
const COOKIE_OPTIONS = { path: '/', httpOnly: true, secure: true, sameSite: 'strict', maxAge: 7 * 24 * 3600 } as const;

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
