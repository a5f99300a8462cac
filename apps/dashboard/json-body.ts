import { badRequest } from './http-errors.js';
import { refuseDeepJson } from './json-depth.js';

/**
 * The JSON body parser (the app's content-type parser for application/json). Nesting is bounded
 * before parsing (json-depth.ts). Like Fastify's own parser it refuses `__proto__` and
 * `constructor.prototype` keys (prototype poisoning), but says which key rather than "not valid JSON".
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw badRequest('the body is empty: send JSON, for example {"message": "…"}');
  refuseDeepJson(text);
  try {
    return JSON.parse(text, refusePrototypeKeys);
  } catch (error) {
    if (error instanceof SyntaxError) throw badRequest(`the body is not valid JSON: ${error.message}`);
    throw error;
  }
}

function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw badRequest('the body may not contain a "__proto__" key');
  if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')) {
    throw badRequest('the body may not contain a "constructor" key with a "prototype" inside');
  }
  return value;
}
