import type { RouteOptions } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../apps/dashboard/app.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';

/** find-my-way's `:id` is OpenAPI's `{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('GET /api/openapi.json', () => {
  let dash: DashboardUnderTest;
  beforeEach(async () => {
    dash = await buildTestApp();
  });
  afterEach(() => dash.close());

  it('describes every /api route in Fastify’s own route table, and nothing else', async () => {
    // The route table as Fastify builds it: an onRoute hook added before any route.
    const routes: Pick<RouteOptions, 'method' | 'url'>[] = [];
    const recorder = await buildApp(dash.deps, { logger: false, onRoute: (route) => routes.push({ method: route.method, url: route.url }) });
    await recorder.ready();

    const response = await recorder.inject('/api/openapi.json');
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toBe('3.1.0');

    const apiRoutes = routes.flatMap(({ method, url }) =>
      (Array.isArray(method) ? method : [method]).filter((m) => m !== 'HEAD').map((m) => ({ method: m.toLowerCase(), url: url! })),
    ).filter(({ url }) => url.startsWith('/api/'));
    expect(apiRoutes.map(({ method, url }) => `${method} ${url}`)).toEqual(
      expect.arrayContaining(['post /api/jobs', 'get /api/jobs', 'get /api/jobs/:id', 'post /api/jobs/:id/requeue', 'get /api/kinds', 'get /api/openapi.json']),
    );
    for (const { method, url } of apiRoutes) {
      expect(doc.paths[openApiPath(url)]?.[method], `${method} ${url}`).toBeDefined();
    }
    // And nothing the table lacks: no HTML route, no stale path.
    const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(documented.sort()).toEqual(apiRoutes.map(({ method, url }) => `${method} ${openApiPath(url)}`).sort());
    await recorder.close();
  });

  it('carries the route schemas: the submit body, the list parameters, the task object', async () => {
    const doc = (await dash.app.inject('/api/openapi.json')).json();
    const submit = doc.paths['/api/jobs'].post;
    expect(submit.requestBody.content['application/json'].schema.required).toEqual(['message']);
    expect(submit.responses['202']).toBeDefined();
    const list = doc.paths['/api/jobs'].get;
    expect(list.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(expect.arrayContaining(['query:state', 'query:limit', 'query:cursor']));
    const one = doc.paths['/api/jobs/{id}'].get;
    expect(one.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ in: 'path', name: 'id', required: true }), expect.objectContaining({ in: 'query', name: 'wait' })]),
    );
    expect(Object.keys(one.responses['200'].content['application/json'].schema.properties)).toEqual(expect.arrayContaining(['id', 'state', 'output', 'costUsd']));
  });
});
