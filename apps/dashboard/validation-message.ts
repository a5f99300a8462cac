import type { FastifySchemaValidationError } from 'fastify';

const quoted = (values: readonly unknown[]) => values.map((value) => JSON.stringify(value)).join(', ');

/**
 * What a schema refused, said so that the client can fix it: an enum names the values it takes,
 * an unknown field or parameter is named with the ones that exist. Anything else is Ajv's own
 * message behind the part it is about ("body/message must be string"). The app's Ajv runs with
 * `verbose`, which puts the schema and the refused value on each error.
 */
export function validationMessage(context: string, error: FastifySchemaValidationError | undefined): string {
  if (!error) return `${context} is invalid`;
  const at = `${context}${error.instancePath}`;
  const params = error.params as Record<string, unknown>;
  const parent = (error as { parentSchema?: { properties?: Record<string, unknown> } }).parentSchema;
  switch (error.keyword) {
    case 'enum': {
      const got = (error as { data?: unknown }).data;
      return `${at} must be one of ${quoted(params.allowedValues as unknown[])}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
    }
    case 'additionalProperties': {
      const what = context === 'querystring' ? 'parameter' : 'field';
      const known = Object.keys(parent?.properties ?? {});
      return `${at === 'querystring' ? 'the query' : at} has an unknown ${what} ${JSON.stringify(params.additionalProperty)}${known.length ? `; it takes ${quoted(known)}` : ''}`;
    }
    default:
      return `${at} ${error.message ?? 'is invalid'}`;
  }
}
