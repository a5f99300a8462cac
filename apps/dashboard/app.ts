import formBody from '@fastify/formbody';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify';
import { accessTokenGate, type AccessCheck } from './access-token.js';
import type { ClientAddressSource } from './client-address.js';
import { CredentialFailures } from './credential-failures.js';
import { signInRoutes } from './routes/sign-in.js';
import type { DashboardDeps } from './deps.js';
import { handleError, MAX_PATH_SEGMENT, sendError } from './error-handler.js';
import { parseJsonBody } from './json-body.js';
import { refuseCrossOrigin, refuseOtherHosts, type Guard } from './same-origin.js';
import { securityHeaders } from './security-headers.js';
import { LOOPBACK, type ServedAs } from './served-as.js';
import { MESSAGE_LIMIT_BYTES } from './submit-work.js';
import { containerRoutes } from './routes/containers.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { kindRoutes } from './routes/kinds.js';
import { requeueRoute } from './routes/requeue.js';
import { openApiDocument, openApiRoute } from './routes/openapi.js';
import { cardUpdateRoutes } from './routes/card-updates.js';
import { detailsRoute } from './routes/details.js';
import { pageRoute } from './routes/page.js';
import { staticAssetRoutes } from './routes/static-assets.js';
import { workFormRoutes } from './routes/work-form.js';

// A form-encoded message may be three times its size (%XX for every byte).
const FORM_BODY_LIMIT = MESSAGE_LIMIT_BYTES * 3 + 1024;

/**
 * The dashboard and its JSON API as one Fastify app, not yet listening: the local stack and
 * the App Service server both build it from their own adapters, and tests `inject()` into it.
 */
export interface BuildOptions extends FastifyServerOptions {
  /** Node's HTTP server options (the local stack sets how often it checks request timeouts). */
  http?: import('node:http').ServerOptions | null;
  /** When set, every route but /healthz, /login and /logout needs it. */
  accessToken?: string | null;
  /** Whose address a wrong credential counts against: the socket's, or App Service's X-Forwarded-For. */
  clientAddress?: ClientAddressSource;
  /** The host names and scheme browsers use; by default a loopback bind over http. */
  servedAs?: ServedAs;
  /** Told of each route as Fastify adds it: the route table, for tests that walk it. */
  onRoute?: (route: RouteOptions) => void;
}

export async function buildApp(
  deps: DashboardDeps,
  { accessToken, clientAddress = 'socket', servedAs = LOOPBACK, onRoute, ...options }: BuildOptions = {},
): Promise<FastifyInstance> {
  // Every request passes these in order, including one whose URL the router cannot read.
  const guards: Guard[] = [securityHeaders(servedAs), refuseOtherHosts(servedAs), refuseCrossOrigin(servedAs)];
  // One counter of wrong credentials for the gate and the sign-in form alike.
  const access: AccessCheck | null = accessToken
    ? { token: accessToken, failures: new CredentialFailures(), clientAddress, secureCookie: servedAs.scheme === 'https' }
    : null;
  if (access) guards.push(accessTokenGate(access));

  const app = Fastify({
    ...options,
    routerOptions: { maxParamLength: MAX_PATH_SEGMENT },
    // A number is not a message: no type coercion, so wrong types are refused with 400. An
    // unknown field or parameter is refused, not dropped, where a schema closes its object; and
    // `verbose` gives each error its schema and value, to name what is allowed.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, verbose: true } },
    // A URL the router cannot decode skips the hooks: run the same guards, then the one handler.
    frameworkErrors: async (error, request, reply) => {
      try {
        for (const guard of guards) {
          await guard(request, reply);
          if (reply.sent) return;
        }
      } catch (refusal) {
        return handleError(refusal as FastifyError, request, reply);
      }
      return handleError(error, request, reply);
    },
  });
  if (onRoute) app.addHook('onRoute', onRoute);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  await app.register(formBody, { bodyLimit: FORM_BODY_LIMIT });
  for (const guard of guards) app.addHook('onRequest', guard);
  app.setErrorHandler(handleError);
  if (access) await signInRoutes(app, access);
  app.setNotFoundHandler((request, reply) => {
    sendError(request, reply, 404, `no route ${request.method} ${request.url.split('?')[0]}`);
  });
  // Before every route: it collects them as they are added.
  await openApiDocument(app);
  await app.register(async (scope) => openApiRoute(scope));
  await app.register(async (scope) => jobRoutes(scope, deps));
  await app.register(async (scope) => kindRoutes(scope, deps));
  await app.register(async (scope) => requeueRoute(scope, deps, accessToken ? 'token' : 'anonymous'));
  await app.register(async (scope) => containerRoutes(scope, deps));
  await app.register(async (scope) => healthRoutes(scope, deps));
  await app.register(async (scope) => pageRoute(scope, deps, { signOut: Boolean(accessToken) }));
  await app.register(async (scope) => staticAssetRoutes(scope));
  await app.register(async (scope) => workFormRoutes(scope, deps));
  await app.register(async (scope) => cardUpdateRoutes(scope, deps));
  await app.register(async (scope) => detailsRoute(scope, deps));
  return app;
}
