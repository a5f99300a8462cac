import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { notFound } from '../http-errors.js';
import { toJobView } from '../job-view.js';
import { containerParams } from '../schemas.js';
import { details } from '../views/details.js';
import { sendHtml, viewContext } from './html-reply.js';

/** More Details: the modal for one container, which loads its metrics and logs itself. */
export async function detailsRoute(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  app.get<{ Params: { name: string } }>('/ui/containers/:name/details', { schema: { params: containerParams } }, async (request, reply) => {
    const job = await deps.store.getByContainerName(request.params.name);
    if (!job) throw notFound(`no container named ${request.params.name}`);
    return sendHtml(reply, details(toJobView(job, deps.prices), viewContext(deps), { logsFollowed: typeof deps.runtime.logsFrom === 'function' }));
  });
}
