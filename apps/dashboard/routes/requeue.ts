import type { FastifyInstance } from 'fastify';
import type { Requester } from '../../core/domain/job.js';
import type { DashboardDeps } from '../deps.js';
import { toApiJob } from '../job-view.js';
import { requeueFailed } from '../requeue.js';
import { errorSchema, jobIdParams, jobSchema } from '../schemas.js';

/**
 * POST /api/jobs/:id/requeue: a Failed task's message runs again as a new task, 201 with it; a
 * repeated requeue answers 200 with the task the first one made and `Idempotent-Replayed: true`
 * (as a replayed submit does); any other state is 409. `requester` is who every request of this
 * app is: `token` behind the access token, `anonymous` where the stack has none.
 */
export async function requeueRoute(app: FastifyInstance, deps: DashboardDeps, requester: Requester): Promise<void> {
  app.post<{ Params: { id: string } }>(
    '/api/jobs/:id/requeue',
    {
      schema: {
        summary: 'Run a Failed task again, as a new task (once per failed task)',
        params: jobIdParams,
        response: { 200: jobSchema, 201: jobSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) => {
      const { job, replayed } = await requeueFailed(request.params.id, requester, { ...deps, kinds: deps.kinds.names() });
      reply.code(replayed ? 200 : 201).header('location', `/api/jobs/${job.id}`);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return toApiJob(job, deps.prices);
    },
  );
}
