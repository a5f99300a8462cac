import type { FastifyInstance } from 'fastify';
import { JOB_STATES, type JobState } from '../../core/domain/job.js';
import type { DashboardDeps } from '../deps.js';
import { isJobId } from '../../core/domain/job-id.js';
import { badRequest, notFound } from '../http-errors.js';
import { hintJsonContentType } from '../json-content-type.js';
import { RevisionWatch } from '../revision-watch.js';
import { toApiJob } from '../job-view.js';
import { errorSchema, jobIdParams, jobSchema } from '../schemas.js';
import { MESSAGE_LIMIT_BYTES, submitWork, submitWorkOnce, validateKind, validateWork } from '../submit-work.js';
import { wholeNumberInRange } from '../whole-number.js';
import { RevisionCache } from '../revision-cache.js';

export const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;
// JSON escapes can make a message up to six times its size on the wire (\uXXXX).
const JSON_BODY_LIMIT = MESSAGE_LIMIT_BYTES * 6 + 1024;
const MAX_IDEMPOTENCY_KEY = 255;
/** The longest `?wait=` on GET /api/jobs/:id, in seconds (README). */
const MAX_WAIT_SECONDS = 60;

/**
 * The Idempotency-Key header: printable ASCII, at most 255 characters, bare or as a quoted
 * string (the draft's sf-string form). Keys from the API are kept apart from the dashboard's
 * own (`requeue:`) by a prefix.
 */
function idempotencyKeyOf(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const raw = Array.isArray(header) ? header.join(',') : header;
  const key = /^"(.*)"$/.exec(raw.trim())?.[1] ?? raw.trim();
  if (!/^[\x20-\x7e]+$/.test(key) || key.length > MAX_IDEMPOTENCY_KEY) {
    throw badRequest(`the Idempotency-Key header must be 1 to ${MAX_IDEMPOTENCY_KEY} printable ASCII characters`);
  }
  return `api:${key}`;
}

/** A page cursor is the `next` of an earlier page, a job id: anything else is a 400. */
function pageCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  if (!isJobId(cursor)) throw badRequest('cursor is not one this API gave: pass the "next" of the previous page as it came');
  return cursor;
}

export async function jobRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  // 20 clients listing 500 jobs each second cost one read and one serialization per change.
  const pages = new RevisionCache<string>(() => deps.store.currentRev());
  app.post<{ Body: { message: string; kind?: string } }>(
    '/api/jobs',
    {
      bodyLimit: JSON_BODY_LIMIT,
      preValidation: hintJsonContentType,
      schema: {
        body: {
          type: 'object',
          required: ['message'],
          // Closed: a misspelt field ("kinds") is refused and named, never silently dropped.
          additionalProperties: false,
          properties: { message: { type: 'string' }, kind: { type: 'string', maxLength: 64 } },
        },
        response: {
          202: {
            type: 'object',
            required: ['id', 'containerName', 'kind', 'state', 'enqueuedAt'],
            properties: {
              id: { type: 'string' },
              containerName: { type: 'string' },
              kind: { type: 'string' },
              state: { type: 'string' },
              enqueuedAt: { type: 'string' },
            },
          },
          400: errorSchema,
          413: errorSchema,
          422: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const key = idempotencyKeyOf(request.headers['idempotency-key']);
      const work = validateWork(request.body, { kinds: deps.kinds.names(), kindEnvironment: deps.kindEnvironment });
      const { job, replayed } = key ? await submitWorkOnce(work, key, deps) : { job: await submitWork(work, deps), replayed: false };
      reply.code(202).header('location', `/api/jobs/${job.id}`);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return { id: job.id, containerName: job.containerName, kind: job.kind, state: job.state, enqueuedAt: job.enqueuedAt };
    },
  );

  app.get<{ Querystring: { state?: JobState; kind?: string; limit?: string; cursor?: string } }>(
    '/api/jobs',
    {
      schema: {
        querystring: {
          type: 'object',
          // Closed: an unknown parameter is a 400 naming it, never a filter silently ignored.
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: JOB_STATES },
            kind: { type: 'string', maxLength: 64 },
            limit: { type: 'string', maxLength: 20 },
            cursor: { type: 'string', maxLength: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['jobs', 'next'],
            properties: { jobs: { type: 'array', items: jobSchema }, next: { type: ['string', 'null'] } },
          },
          400: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { state, kind } = request.query;
      const limit = wholeNumberInRange('limit', request.query.limit, { min: 1, max: MAX_PAGE_SIZE, fallback: DEFAULT_PAGE_SIZE });
      const cursor = pageCursor(request.query.cursor);
      // Serialized once per revision and query (by this route's response schema), sent as is.
      const body = await pages.get(JSON.stringify([state ?? null, kind || null, limit, cursor ?? null]), async () => {
        const page = await deps.store.list({ state, kind: kind || undefined, limit, cursor });
        const now = new Date();
        return reply.serialize({ jobs: page.jobs.map((job) => toApiJob(job, deps.prices, now)), next: page.next }) as string;
      });
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );

  const watch = new RevisionWatch(deps.store);
  app.addHook('onClose', async () => watch.close());

  app.get<{ Params: { id: string }; Querystring: { wait?: string } }>(
    '/api/jobs/:id',
    {
      schema: {
        params: jobIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { wait: { type: 'string', maxLength: 20, description: `Seconds (1-${MAX_WAIT_SECONDS}) to wait for the task to end before answering` } },
        },
        response: { 200: jobSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const wait = wholeNumberInRange('wait', request.query.wait, { min: 1, max: MAX_WAIT_SECONDS, fallback: 0 });
      const job = wait ? await watch.waitForEnd(request.params.id, wait * 1000) : await deps.store.get(request.params.id);
      if (!job) throw notFound(`no job with id ${request.params.id}`);
      return toApiJob(job, deps.prices);
    },
  );
}
