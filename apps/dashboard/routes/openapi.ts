import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

/** Where a script finds the API's description (README, "JSON API"). */
export const OPENAPI_PATH = '/api/openapi.json';

/**
 * The OpenAPI 3.1 document of every /api route, made by @fastify/swagger from the same route
 * schemas that validate the requests and serialize the answers: one source, so the document
 * cannot drift from what the routes do. It must be registered before the routes (it collects
 * them in an onRoute hook). The HTML routes (/ui, /, /static, /login) are the dashboard's own
 * and are left out.
 */
export async function openApiDocument(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'event-driven-aci',
        description: 'Queue work, one container per task, and follow each task to its end. README.md, "JSON API", says what each field means.',
        version: '1',
      },
    },
    // HEAD routes, Fastify's copies of the GET routes, are left out by default.
    transform: ({ schema, url }) => ({ schema: url.startsWith('/api/') ? schema : { ...schema, hide: true }, url }),
  });
}

/** GET /api/openapi.json: the document, built once on first request and cached by the plugin. */
export async function openApiRoute(app: FastifyInstance): Promise<void> {
  app.get(OPENAPI_PATH, { schema: { summary: 'This document (OpenAPI 3.1)' } }, async () => app.swagger());
}
