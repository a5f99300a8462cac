import type { FastifyInstance } from 'fastify';
import { JOB_STATES, type JobState } from '../../core/domain/job.js';
import type { DashboardDeps } from '../deps.js';
import { notFound } from '../http-errors.js';
import { toJobView } from '../job-view.js';
import { errorSchema, jobSchema } from '../schemas.js';
import { MESSAGE_LIMIT_BYTES, submitWork, validateMessage } from '../submit-work.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
// JSON escapes can make a message up to six times its size on the wire (\uXXXX).
const JSON_BODY_LIMIT = MESSAGE_LIMIT_BYTES * 6 + 1024;

export async function jobRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  app.post<{ Body: { message: string } }>(
    '/api/jobs',
    {
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        body: {
          type: 'object',
          required: ['message'],
          properties: { message: { type: 'string' } },
        },
        response: {
          202: {
            type: 'object',
            required: ['id', 'containerName', 'state', 'enqueuedAt'],
            properties: {
              id: { type: 'string' },
              containerName: { type: 'string' },
              state: { type: 'string' },
              enqueuedAt: { type: 'string' },
            },
          },
          400: errorSchema,
          413: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const job = await submitWork(validateMessage(request.body.message), deps);
      reply.code(202).header('location', `/api/jobs/${job.id}`);
      return { id: job.id, containerName: job.containerName, state: job.state, enqueuedAt: job.enqueuedAt };
    },
  );

  app.get<{ Querystring: { state?: JobState; limit?: string; cursor?: string } }>(
    '/api/jobs',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            state: { type: 'string', enum: JOB_STATES },
            limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
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
    async (request) => {
      const { state, cursor } = request.query;
      const limit = Math.min(Math.max(Number(request.query.limit ?? DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE);
      const page = await deps.store.list({ state, limit, cursor });
      const now = new Date();
      return { jobs: page.jobs.map((job) => toJobView(job, deps.prices, now)), next: page.next };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/jobs/:id',
    {
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 100 } } },
        response: { 200: jobSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const job = await deps.store.get(request.params.id);
      if (!job) throw notFound(`no job with id ${request.params.id}`);
      return toJobView(job, deps.prices);
    },
  );
}
