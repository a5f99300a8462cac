import type { FastifyInstance } from 'fastify';
import type { MetricSeries } from '../../core/domain/metric-series.js';
import type { DashboardDeps } from '../deps.js';
import { notFound } from '../http-errors.js';
import { containerParams, errorSchema, metricsSchema } from '../schemas.js';

const NO_METRICS: MetricSeries = { cpu: [], memory: [] };
/** How a `?from=` read of the logs was answered: `from-offset` (what is new) or `tail` (the whole tail, to replace). */
export const LOG_READ_HEADER = 'x-log-read';
/** After a `from-offset` read: the offset to read on from. */
export const LOG_NEXT_HEADER = 'x-log-next';

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

  app.get<{ Params: { name: string }; Querystring: { from?: string } }>(
    '/api/containers/:name/logs',
    {
      schema: {
        params: containerParams,
        querystring: { type: 'object', properties: { from: { type: 'string', pattern: '^[0-9]{1,15}$' } } },
        response: { 200: { type: 'string' }, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      await requireContainer(deps, name);
      reply.type('text/plain; charset=utf-8');
      if (request.query.from !== undefined) {
        // Only what was added since `from`, where the runtime can say (a local file). Otherwise
        // (Azure's listLogs, Docker's logs, the copy in the store) the whole tail, marked so:
        // the reader replaces what it has rather than appending.
        const chunk = await deps.runtime.logsFrom?.(name, Number(request.query.from));
        if (chunk) return reply.header(LOG_READ_HEADER, 'from-offset').header(LOG_NEXT_HEADER, String(chunk.next)).send(chunk.text);
        reply.header(LOG_READ_HEADER, 'tail');
      }
      return containerLogs(deps, name);
    },
  );
}
