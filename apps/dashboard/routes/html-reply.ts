import type { FastifyReply } from 'fastify';
import { toJobView, type JobView } from '../job-view.js';
import type { DashboardDeps } from '../deps.js';
import type { Job } from '../../core/domain/job.js';
import type { ViewContext } from '../views/card.js';
import type { SafeHtml } from '../views/html.js';

/** Sends markup the views made (escaped as they were built). */
export function sendHtml(reply: FastifyReply, body: SafeHtml): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(body.value);
}

/** What every page route shows a job with: the prices and the label of its cost. */
export function viewContext(deps: DashboardDeps): ViewContext {
  return { prices: deps.prices, costLabel: deps.costLabel };
}

/** Jobs as the cards show them, priced at one moment. */
export function jobViews(jobs: Job[], deps: DashboardDeps, now = new Date()): JobView[] {
  return jobs.map((job) => toJobView(job, deps.prices, now));
}
