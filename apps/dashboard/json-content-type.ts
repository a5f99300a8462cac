import type { FastifyRequest } from 'fastify';
import { badRequest } from './http-errors.js';

/** The media type of a request, lower case, without its parameters (`; charset=…`). */
function mediaTypeOf(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Whether a body that was not parsed as JSON looks like JSON: text that starts with `{` or `[`,
 * or a form whose one field name is such text (curl -d sends form-urlencoded by default, and
 * `{"message":"hi"}` then parses as a field named `{"message":"hi"}` with no value).
 */
function looksLikeJson(body: unknown): boolean {
  if (typeof body === 'string') return /^\s*[{[]/.test(body);
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const names = Object.keys(body);
    return names.length === 1 && /^\s*[{[]/.test(names[0]!);
  }
  return false;
}

/**
 * A preValidation hook for the JSON routes: JSON sent under another content type would
 * otherwise be refused for what the parser made of it ("body must have required property
 * 'message'"); this says what to send instead.
 */
export async function hintJsonContentType(request: FastifyRequest): Promise<void> {
  const type = mediaTypeOf(request);
  if (type === 'application/json' || !looksLikeJson(request.body)) return;
  throw badRequest(`the body looks like JSON but was sent as ${type || 'no content type'}: send it with content-type: application/json`);
}
