import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { billedUnits, usageCostUsd } from '../../core/domain/pricing.js';
import type { DashboardDeps } from '../deps.js';
import { HttpError, notFound } from '../http-errors.js';
import { toJobView } from '../job-view.js';
import { containerParams, jobIdParams } from '../schemas.js';
import { MAX_COPIES, submitWork, submitWorkOnce, validateKind, validateMessage } from '../submit-work.js';
import { wholeNumberInRange } from '../whole-number.js';
import { card, type ViewContext } from '../views/card.js';
import { details } from '../views/details.js';
import { html, type SafeHtml } from '../views/html.js';
import { olderButton, page, poller, upsertCards } from '../views/page.js';
import { totals, type Totals } from '../views/totals.js';
import { DEFAULT_PAGE_SIZE } from './jobs.js';

/** Cards sent per update at most; a bigger backlog is sent over the next polls. */
const MAX_CHANGES_PER_UPDATE = 200;

const require = createRequire(import.meta.url);
const HTMX_DIST = dirname(require.resolve('htmx.org/dist/htmx.min.js'));
// Source and build both sit below the package root; the assets stay in the source tree.
const STATIC_DIR = join(findPackageRoot(fileURLToPath(import.meta.url)), 'apps/dashboard/static');

const ASSETS: Record<string, { file: string; type: string }> = {
  'htmx.min.js': { file: join(HTMX_DIST, 'htmx.min.js'), type: 'text/javascript' },
  'hx-upsert.min.js': { file: join(HTMX_DIST, 'ext/hx-upsert.min.js'), type: 'text/javascript' },
  'dashboard.js': { file: join(STATIC_DIR, 'dashboard.js'), type: 'text/javascript' },
  'dashboard.css': { file: join(STATIC_DIR, 'dashboard.css'), type: 'text/css' },
};

function findPackageRoot(from: string): string {
  let dir = dirname(from);
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

function sendHtml(reply: FastifyReply, body: SafeHtml): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(body.value);
}

export interface PageOptions {
  /** Show "Sign out" (the deployed dashboard, behind its access token). */
  signOut: boolean;
}

/** The htmx dashboard: the page, its fragments, and its static assets (no CDN). */
export async function pageRoutes(app: FastifyInstance, deps: DashboardDeps, { signOut }: PageOptions = { signOut: false }): Promise<void> {
  const context: ViewContext = { prices: deps.prices, costLabel: deps.costLabel };
  const assets = new Map(
    Object.entries(ASSETS).map(([name, asset]) => [name, { body: readFileSync(asset.file), type: asset.type }]),
  );

  async function currentTotals(): Promise<Totals> {
    const [counts, usage, active] = await Promise.all([
      deps.store.counts(),
      deps.store.usageTotals(),
      deps.store.listActive(),
    ]);
    const now = new Date();
    // The usage totals hold every earlier attempt already: add only the running ones.
    const running = active.reduce((sum, job) => {
      const units = billedUnits(job, now);
      return sum + (units ? usageCostUsd(units, deps.prices) : 0);
    }, 0);
    return { counts, costUsd: usageCostUsd(usage, deps.prices) + running, costLabel: deps.costLabel };
  }

  app.get('/', async (_request, reply) => {
    const rev = await deps.store.currentRev();
    const [{ jobs, next }, sums] = await Promise.all([
      deps.store.list({ limit: DEFAULT_PAGE_SIZE }),
      currentTotals(),
    ]);
    const now = new Date();
    return sendHtml(
      reply,
      page({ jobs: jobs.map((job) => toJobView(job, deps.prices, now)), next, rev, totals: sums, context, signOut, kinds: deps.kinds }),
    );
  });

  app.get<{ Params: { name: string } }>(
    '/static/:name',
    { schema: { params: { type: 'object', properties: { name: { type: 'string' } } } } },
    async (request, reply) => {
      const asset = assets.get(request.params.name);
      if (!asset) throw notFound(`no asset ${request.params.name}`);
      return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
    },
  );

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
      const work = { message: validateMessage(request.body.message), kind: validateKind(request.body.kind, deps.kinds) };
      const count = wholeNumberInRange('count', request.body.count, { min: 1, max: MAX_COPIES, fallback: 1 });
      const jobs = [];
      for (let i = 0; i < count; i++) jobs.push(await submitWork(work, deps));
      const now = new Date();
      return sendHtml(
        reply.code(201),
        upsertCards(jobs.map((job) => card(toJobView(job, deps.prices, now), context))),
      );
    },
  );

  app.post<{ Params: { id: string } }>(
    '/ui/jobs/:id/requeue',
    { schema: { params: jobIdParams } },
    async (request, reply) => {
      const failed = await deps.store.get(request.params.id);
      if (!failed) throw notFound(`no job with id ${request.params.id}`);
      if (failed.state !== 'Failed') throw new HttpError(409, 'NOT_FAILED', `only a failed task can be requeued; this one is ${failed.state}`);
      // The failed task stays as history; the same message runs again as a new task, once:
      // a second Requeue of the same task (a double click, a retry) answers with that task.
      const work = { message: failed.message, kind: validateKind(failed.kind, deps.kinds) };
      const { job } = await submitWorkOnce(work, `requeue:${failed.id}`, deps);
      return sendHtml(reply.code(201), upsertCards([card(toJobView(job, deps.prices), context)]));
    },
  );

  app.get<{ Querystring: { cursor?: string } }>(
    '/ui/jobs',
    { schema: { querystring: { type: 'object', properties: { cursor: { type: 'string', maxLength: 100 } } } } },
    async (request, reply) => {
      const { jobs, next } = await deps.store.list({ limit: DEFAULT_PAGE_SIZE, cursor: request.query.cursor });
      const now = new Date();
      const cards = jobs.map((job) => card(toJobView(job, deps.prices, now), context));
      // The pager is replaced by the next pager; the cards go into the list in order.
      return sendHtml(reply, html`${olderButton(next)}${upsertCards(cards)}`);
    },
  );

  app.get<{ Querystring: { since: string } }>(
    '/ui/updates',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['since'],
          properties: { since: { type: 'string', pattern: '^[0-9]{1,15}$' } },
        },
      },
    },
    async (request, reply) => {
      const since = Number(request.query.since);
      const changed = await deps.store.changedSince(since, MAX_CHANGES_PER_UPDATE);
      // Nothing changed: nothing is sent and nothing is swapped.
      if (changed.length === 0) return reply.code(204).send();
      const rev = changed[changed.length - 1]!.rev;
      const now = new Date();
      // A changed card not on the page yet is inserted in its place (upsert orders by id).
      const cards = changed.map((job) => card(toJobView(job, deps.prices, now), context));
      const sums = await currentTotals();
      return sendHtml(
        reply,
        html`${poller(rev)}${upsertCards(cards)}<hx-partial hx-target="#totals" hx-swap="outerHTML">${totals(sums)}</hx-partial>`,
      );
    },
  );

  app.get<{ Params: { name: string } }>(
    '/ui/containers/:name/details',
    { schema: { params: containerParams } },
    async (request, reply) => {
      const job = await deps.store.getByContainerName(request.params.name);
      if (!job) throw notFound(`no container named ${request.params.name}`);
      return sendHtml(reply, details(toJobView(job, deps.prices), context));
    },
  );
}
