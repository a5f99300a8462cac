import type { FastifyInstance } from 'fastify';
import { currentTotals } from '../current-totals.js';
import type { DashboardDeps } from '../deps.js';
import { card } from '../views/card.js';
import { html, type SafeHtml } from '../views/html.js';
import { RevisionCache } from '../revision-cache.js';
import { olderButton, poller, upsertCards } from '../views/page.js';
import { totalsPartial } from '../views/totals.js';
import { jobViews, sendHtml, viewContext } from './html-reply.js';
import { DEFAULT_PAGE_SIZE } from './jobs.js';

/** Cards sent per update at most; a bigger backlog is sent over the next polls. */
const MAX_CHANGES_PER_UPDATE = 200;

/** The cards after the first page: older ones on request, changed ones on every poll. */
export async function cardUpdateRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  // One rendering per revision and `since`, however many pollers ask.
  const updates = new RevisionCache<SafeHtml | null>(() => deps.store.currentRev());
  const cardsOf = (jobs: Parameters<typeof jobViews>[0]) => jobViews(jobs, deps).map((job) => card(job, viewContext(deps)));

  app.get<{ Querystring: { cursor?: string } }>(
    '/ui/jobs',
    { schema: { querystring: { type: 'object', properties: { cursor: { type: 'string', maxLength: 100 } } } } },
    async (request, reply) => {
      const { jobs, next } = await deps.store.list({ limit: DEFAULT_PAGE_SIZE, cursor: request.query.cursor });
      // The pager is replaced by the next pager; the cards go into the list in order.
      return sendHtml(reply, html`${olderButton(next)}${upsertCards(cardsOf(jobs))}`);
    },
  );

  app.get<{ Querystring: { since: string } }>(
    '/ui/updates',
    {
      schema: {
        querystring: { type: 'object', required: ['since'], properties: { since: { type: 'string', pattern: '^[0-9]{1,15}$' } } },
      },
    },
    async (request, reply) => {
      const since = Number(request.query.since);
      const update = await updates.get(String(since), async () => {
        const changed = await deps.store.changedSince(since, MAX_CHANGES_PER_UPDATE);
        if (changed.length === 0) return null;
        const rev = changed[changed.length - 1]!.rev;
        // A changed card not on the page yet is inserted in its place (upsert orders by id).
        return html`${poller(rev)}${upsertCards(cardsOf(changed))}${totalsPartial(await currentTotals(deps))}`;
      });
      // Nothing changed: nothing is sent and nothing is swapped.
      if (!update) return reply.code(204).send();
      return sendHtml(reply, update);
    },
  );
}
