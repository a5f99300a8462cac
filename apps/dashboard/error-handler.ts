import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-errors.js';
import { validationMessage } from './validation-message.js';
import { MESSAGE_LIMIT_BYTES } from './submit-work.js';
import { html } from './views/html.js';

/** find-my-way's limit on one path segment (Fastify's `maxParamLength`, 100 by default). */
export const MAX_PATH_SEGMENT = 100;

/** 4xx carry what was wrong; 5xx say "internal error" and the cause goes to the log. */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  let status = error.statusCode ?? 500;
  let message = error.message;
  if (error.validation) {
    message = validationMessage(error.validationContext ?? 'request', error.validation[0]);
  }
  switch (error.code) {
    // docs/design.md: a body that is not JSON is a 400, whatever its content type.
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      status = 400;
      message = 'the body must be JSON (content-type: application/json) or a form';
      break;
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      message = `the request body is too large; a message may be at most ${MESSAGE_LIMIT_BYTES} bytes`;
      break;
    case 'FST_ERR_BAD_URL':
      status = 400;
      message = 'the URL path is not valid: a %-escape in it is not UTF-8';
      break;
    case 'FST_ERR_MAX_PARAM_LENGTH':
      status = 414;
      message = `the URL path is too long: a part of it may be at most ${MAX_PATH_SEGMENT} characters`;
      break;
  }
  if (status >= 500) {
    request.log.error({ err: error }, 'request failed');
    if (!(error instanceof HttpError)) message = 'internal error';
  }
  sendError(request, reply, status, message);
}

/** JSON for scripts; an HTML fragment for htmx, which swaps error responses in. */
export function sendError(request: FastifyRequest, reply: FastifyReply, status: number, message: string): void {
  if (request.headers['hx-request'] === 'true') {
    reply.code(status).type('text/html; charset=utf-8').send(html`<p class="error" role="alert">${message}</p>`.value);
  } else {
    reply.code(status).send({ error: message });
  }
}
