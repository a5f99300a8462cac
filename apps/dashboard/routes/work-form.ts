import type { FastifyInstance } from 'fastify';
import { currentTotals } from '../current-totals.js';
import type { DashboardDeps } from '../deps.js';
import { jobIdParams } from '../schemas.js';
import { requeueFailed } from '../requeue.js';
import { MAX_COPIES, submitWork, validateWork } from '../submit-work.js';
import { card } from '../views/card.js';
import { html } from '../views/html.js';
import { upsertCards } from '../views/page.js';
import { totalsPartial } from '../views/totals.js';
import { wholeNumberInRange } from '../whole-number.js';
import { jobViews, sendHtml, viewContext } from './html-reply.js';

/** The form's "Add work" and a failed card's "Requeue": each answers with the new cards. */
export async function workFormRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  // The new cards with the header's counts that include them: the counts never lag the cards.
  const cards = async (jobs: Parameters<typeof jobViews>[0]) =>
    html`${upsertCards(jobViews(jobs, deps).map((job) => card(job, viewContext(deps))))}${totalsPartial(await currentTotals(deps))}`;

  app.post<{ Body: { message?: unknown; count?: unknown; kind?: unknown } }>(
    '/ui/jobs',
    {
      schema: {
        body: {
          type: 'object',
          properties: { message: { type: 'string' }, count: { type: 'string', maxLength: 20 }, kind: { type: 'string', maxLength: 64 } },
        },
      },
    },
    async (request, reply) => {
      const work = validateWork(request.body, { kinds: deps.kinds.names(), kindEnvironment: deps.kindEnvironment });
      const count = wholeNumberInRange('count', request.body.count, { min: 1, max: MAX_COPIES, fallback: 1 });
      const jobs = [];
      for (let i = 0; i < count; i++) jobs.push(await submitWork(work, deps));
      return sendHtml(reply.code(201), await cards(jobs));
    },
  );

  app.post<{ Params: { id: string } }>('/ui/jobs/:id/requeue', { schema: { params: jobIdParams } }, async (request, reply) => {
    // A second Requeue of the same task (a double click, a retry) answers with the first's task.
    const { job } = await requeueFailed(request.params.id, 'dashboard', { ...deps, kinds: deps.kinds.names() });
    return sendHtml(reply.code(201), await cards([job]));
  });
}
