import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import { TOKEN_COOKIE, tokenMatcher, type AccessCheck } from '../access-token.js';
import { clientAddressOf } from '../client-address.js';
import { tryAgainIn } from '../credential-failures.js';
import { loginPage } from '../views/login.js';

const COOKIE_MAX_AGE_SECONDS = 7 * 24 * 3600;

/**
 * /login and /logout; registers the cookie parser the gate uses. A wrong token counts against
 * the client's address like a wrong bearer token (the same counter), and the right one is
 * refused only from an address that went past the limit, so one person's guessing never locks
 * out anyone else. The cookie is `Secure` only when browsers come over https, so that signing in
 * works on http://<LAN address> for the local stack.
 */
export async function signInRoutes(app: FastifyInstance, { token, failures, clientAddress, secureCookie }: AccessCheck): Promise<void> {
  const matches = tokenMatcher(token);
  const cookieOptions = { path: '/', httpOnly: true, secure: secureCookie, sameSite: 'strict', maxAge: COOKIE_MAX_AGE_SECONDS } as const;
  await app.register(fastifyCookie);
  const page = (message: string) => loginPage(message).value;

  app.get('/login', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page('')));

  app.post<{ Body: { token?: string } }>(
    '/login',
    { schema: { body: { type: 'object', properties: { token: { type: 'string', maxLength: 512 } } } } },
    async (request, reply) => {
      const address = clientAddressOf(request, clientAddress);
      const refused = await failures.refusedFor(address);
      const limited = (ms: number) =>
        reply.code(429).header('retry-after', Math.ceil(ms / 1000)).type('text/html; charset=utf-8').send(page(`too many wrong access tokens from this address: ${tryAgainIn(ms)}`));
      if (refused !== null) return limited(refused);
      const candidate = request.body.token ?? '';
      if (!matches(candidate)) {
        const nowRefused = await failures.failed(address);
        if (nowRefused !== null) return limited(nowRefused);
        return reply.code(401).type('text/html; charset=utf-8').send(page('That is not the access token.'));
      }
      reply.setCookie(TOKEN_COOKIE, candidate, cookieOptions);
      return reply.redirect('/', 303);
    },
  );

  app.post('/logout', async (_request, reply) => {
    reply.clearCookie(TOKEN_COOKIE, { path: cookieOptions.path, httpOnly: true, secure: secureCookie, sameSite: 'strict' });
    return reply.redirect('/login', 303);
  });
}
