import formBody from '@fastify/formbody';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { requireAccessToken } from './access-token.js';
import type { DashboardDeps } from './deps.js';
import { HttpError } from './http-errors.js';
import { refuseCrossOrigin, securityHeaders } from './same-origin.js';
import { MESSAGE_LIMIT_BYTES } from './submit-work.js';
import { html } from './views/html.js';

// A form-encoded message may be three times its size (%XX for every byte).
const FORM_BODY_LIMIT = MESSAGE_LIMIT_BYTES * 3 + 1024;
import { containerRoutes } from './routes/containers.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { pageRoutes } from './routes/pages.js';

/**
 * The dashboard and its JSON API as one Fastify app, not yet listening: the local stack and
 * the App Service server both build it from their own adapters, and tests `inject()` into it.
 */
export interface BuildOptions extends FastifyServerOptions {
  /** When set, every route but /healthz and /login needs it (the deployed dashboard). */
  accessToken?: string | null;
}

export async function buildApp(deps: DashboardDeps, { accessToken, ...options }: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...options,
    // A number is not a message: no type coercion, so wrong types are refused with 400.
    ajv: { customOptions: { coerceTypes: false } },
  });
  await app.register(formBody, { bodyLimit: FORM_BODY_LIMIT });
  app.addHook('onRequest', securityHeaders);
  app.addHook('onRequest', refuseCrossOrigin);
  app.setErrorHandler(handleError);
  if (accessToken) requireAccessToken(app, accessToken);
  app.setNotFoundHandler((request, reply) => {
    sendError(request, reply, 404, `no route ${request.method} ${request.url.split('?')[0]}`);
  });
  await app.register(async (scope) => jobRoutes(scope, deps));
  await app.register(async (scope) => containerRoutes(scope, deps));
  await app.register(async (scope) => healthRoutes(scope, deps));
  await app.register(async (scope) => pageRoutes(scope, deps));
  return app;
}

/** 4xx carry what was wrong; 5xx say "internal error" and the cause goes to the log. */
function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  let status = error.statusCode ?? 500;
  let message = error.message;
  if (error.validation) {
    message = `${error.validationContext ?? 'request'}${error.validation[0]?.instancePath ?? ''} ${error.validation[0]?.message ?? 'is invalid'}`;
  }
  // DESIGN.md: a body that is not JSON is a 400, whatever its content type.
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    status = 400;
    message = 'the body must be JSON (content-type: application/json) or a form';
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    message = `the request body is too large; a message may be at most ${MESSAGE_LIMIT_BYTES} bytes`;
  }
  if (status >= 500) {
    request.log.error({ err: error }, 'request failed');
    if (!(error instanceof HttpError)) message = 'internal error';
  }
  sendError(request, reply, status, message);
}

/** JSON for scripts; an HTML fragment for htmx, which swaps error responses in. */
function sendError(request: FastifyRequest, reply: FastifyReply, status: number, message: string): void {
  if (request.headers['hx-request'] === 'true') {
    reply.code(status).type('text/html; charset=utf-8').send(html`<p class="error" role="alert">${message}</p>`.value);
  } else {
    reply.code(status).send({ error: message });
  }
}
