import type { FastifyInstance } from 'fastify';
import { currentTotals } from '../current-totals.js';
import type { DashboardDeps } from '../deps.js';
import { page } from '../views/page.js';
import { jobViews, sendHtml, viewContext } from './html-reply.js';
import { DEFAULT_PAGE_SIZE } from './jobs.js';

export interface PageOptions {
  /** Show "Sign out" (the deployed dashboard, behind its access token). */
  signOut: boolean;
}

/** The dashboard page: the form, the newest cards, the header's totals, and the poller at the current revision. */
export async function pageRoute(app: FastifyInstance, deps: DashboardDeps, { signOut }: PageOptions = { signOut: false }): Promise<void> {
  app.get('/', async (_request, reply) => {
    // The revision first: a change after it is sent by the next poll, never lost between.
    const rev = await deps.store.currentRev();
    const [{ jobs, next }, totals] = await Promise.all([deps.store.list({ limit: DEFAULT_PAGE_SIZE }), currentTotals(deps)]);
    return sendHtml(reply, page({ jobs: jobViews(jobs, deps), next, rev, totals, context: viewContext(deps), signOut, kinds: deps.kinds.names() }));
  });
}
