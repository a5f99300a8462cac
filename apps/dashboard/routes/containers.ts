import type { FastifyInstance } from 'fastify';
import type { MetricSeries } from '../../core/domain/metric-series.js';
import type { DashboardDeps } from '../deps.js';
import { notFound } from '../http-errors.js';
import { containerParams, errorSchema, metricsSchema } from '../schemas.js';

const NO_METRICS: MetricSeries = { cpu: [], memory: [] };

/** Live from the runtime while the container exists; from the copy in the store after. */
async function containerMetrics(deps: DashboardDeps, name: string): Promise<MetricSeries> {
  return (await deps.metrics.metrics(name)) ?? (await deps.store.getArtifacts(name))?.metrics ?? NO_METRICS;
}

async function containerLogs(deps: DashboardDeps, name: string): Promise<string> {
  return (await deps.runtime.logs(name)) ?? (await deps.store.getArtifacts(name))?.logs ?? '';
}

/** A task's current container, or one an earlier attempt left (its copy in the store, or still live). */
async function requireContainer(deps: DashboardDeps, name: string): Promise<void> {
  if (await deps.store.getByContainerName(name)) return;
  if (await deps.store.getArtifacts(name)) return;
  if ((await deps.runtime.logs(name)) !== null) return;
  throw notFound(`no container named ${name}`);
}

export async function containerRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  app.get<{ Params: { name: string } }>(
    '/api/containers/:name/metrics',
    { schema: { params: containerParams, response: { 200: metricsSchema, 400: errorSchema, 404: errorSchema } } },
    async (request) => {
      const { name } = request.params;
      await requireContainer(deps, name);
      return { name, ...(await containerMetrics(deps, name)) };
    },
  );

  app.get<{ Params: { name: string } }>(
    '/api/containers/:name/logs',
    {
      schema: {
        params: containerParams,
        response: { 200: { type: 'string' }, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      await requireContainer(deps, name);
      reply.type('text/plain; charset=utf-8');
      return containerLogs(deps, name);
    },
  );
}
