import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import type { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import type { MetricSeries } from '../../apps/core/domain/metric-series.js';
import { DEFAULT_PRICES } from '../../apps/core/domain/pricing.js';
import { buildApp } from '../../apps/dashboard/app.js';
import type { DashboardDeps } from '../../apps/dashboard/deps.js';
import { MESSAGE_LIMIT_BYTES } from '../../apps/dashboard/submit-work.js';
import { openEmbedded, tempDir } from '../helpers.js';
import { queueDepth } from '../queue-inspection.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';

/** A runtime that knows one live container, as the dashboard sees it through its ports. */
const LIVE = 'task-live';
const LIVE_METRICS: MetricSeries = { cpu: [{ t: '2026-01-01T00:00:00.000Z', v: 250 }], memory: [{ t: '2026-01-01T00:00:00.000Z', v: 4096 }] };

describe('JSON API', () => {
  let dash: DashboardUnderTest;
  let store: SqliteJobStore;
  let queue: SqliteWorkQueue;
  let app: FastifyInstance;

  beforeEach(async () => {
    dash = await buildTestApp({
      deps: {
        runtime: { logs: async (name) => (name === LIVE ? 'live output\n' : null) },
        metrics: { metrics: async (name) => (name === LIVE ? LIVE_METRICS : null) },
      },
    });
    ({ store, queue, app } = dash);
  });
  afterEach(() => dash.close());

  const post = (payload: unknown, contentType = 'application/json') =>
    app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: { 'content-type': contentType },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  async function nothingStored() {
    expect((await store.list({ limit: 10 })).jobs).toEqual([]);
    expect(queueDepth(queue)).toEqual({ active: 0, deadLettered: 0 });
  }

  it('accepts work: 202 with the Pending job, stored and queued with the job id as messageId', async () => {
    const response = await post({ message: 'hello' });
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['containerName', 'enqueuedAt', 'id', 'kind', 'state']);
    expect(body).toMatchObject({ state: 'Pending', kind: 'default', containerName: `task-${body.id}` });
    expect(response.headers.location).toBe(`/api/jobs/${body.id}`);
    const [message] = await queue.receive(1);
    expect(message).toMatchObject({ messageId: body.id, body: { jobId: body.id, message: 'hello' } });
    expect(await store.get(body.id)).toMatchObject({ state: 'Pending', message: 'hello' });
  });

  it('takes a kind the stack runs, and refuses one it does not, storing nothing', async () => {
    const picked = await post({ message: 'count these words', kind: 'wordcount' });
    expect(picked.statusCode).toBe(202);
    expect(picked.json()).toMatchObject({ kind: 'wordcount' });
    expect(await store.get(picked.json().id)).toMatchObject({ kind: 'wordcount', message: 'count these words' });
    expect((await app.inject(`/api/jobs/${picked.json().id}`)).json()).toMatchObject({ kind: 'wordcount' });
    await store.markFailed(picked.json().containerName, new Date(), 'x');
    await queue.complete((await queue.receive(1))[0]!);
    const before = (await store.list({ limit: 10 })).jobs.length;
    const unknown = await post({ message: 'hi', kind: 'thumbnail' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toBe('kind "thumbnail" is not one this stack runs; it runs "default", "wordcount"');
    expect((await store.list({ limit: 10 })).jobs.length).toBe(before);
    expect(await queue.receive(1)).toEqual([]);
  });

  it.each([
    ['an empty message', { message: '' }, 'message must not be empty or only whitespace'],
    ['a whitespace message', { message: ' \n\t ' }, 'message must not be empty or only whitespace'],
    ['a number', { message: 5 }, 'body/message must be string'],
    ['no message', {}, "body must have required property 'message'"],
    ['an array', [1], 'body must be object'],
    ['broken JSON', '{"message": "hi"', 'not valid JSON'],
  ])('refuses %s with 400 and stores nothing', async (_what, payload, error) => {
    const response = await post(payload);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toContain(error);
    await nothingStored();
  });

  it('refuses a body that is not JSON or a form with 400', async () => {
    const response = await post('<xml/>', 'application/xml');
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/must be JSON/);
    await nothingStored();
  });

  it('refuses a message over the limit with 413, and takes one at the limit', async () => {
    const over = await post({ message: 'x'.repeat(MESSAGE_LIMIT_BYTES + 1) });
    expect(over.statusCode).toBe(413);
    expect(over.json().error).toBe(`message is ${MESSAGE_LIMIT_BYTES + 1} bytes; the limit is ${MESSAGE_LIMIT_BYTES} bytes`);
    // Multi-byte characters count as bytes, as they travel in the container's environment.
    const wide = await post({ message: 'é'.repeat(MESSAGE_LIMIT_BYTES / 2 + 1) });
    expect(wide.statusCode).toBe(413);
    const huge = await post({ message: 'x'.repeat(MESSAGE_LIMIT_BYTES * 8) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error).toMatch(/too large/);
    await nothingStored();
    expect((await post({ message: 'x'.repeat(MESSAGE_LIMIT_BYTES) })).statusCode).toBe(202);
  });

  it('fails the job and answers 503 when the queue refuses it: nothing is left Pending', async () => {
    dash.deps.queue.send = async () => {
      throw new Error('namespace unreachable');
    };
    const response = await post({ message: 'hi' });
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toBe('the work could not be queued: namespace unreachable');
    const [job] = (await store.list({ limit: 10 })).jobs;
    expect(job).toMatchObject({ state: 'Failed', error: 'could not be queued: namespace unreachable' });
  });

  it('gets one job with its cost, or 404', async () => {
    const { id } = (await post({ message: 'hi' })).json();
    const response = await app.inject(`/api/jobs/${id}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id, message: 'hi', state: 'Pending', attempts: 0, costUsd: null, startedAt: null });
    const missing = await app.inject('/api/jobs/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'no job with id nope' });
  });

  it('lists newest first with a cursor, and filters by state', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await post({ message: `m${i}` })).json().id);
    await store.markDone(`task-${ids[0]}`, new Date(), 'ok');
    const first = (await app.inject('/api/jobs?limit=3')).json();
    expect(first.jobs.map((j: { id: string }) => j.id)).toEqual([ids[4], ids[3], ids[2]]);
    const second = (await app.inject(`/api/jobs?limit=3&cursor=${first.next}`)).json();
    expect(second.jobs.map((j: { id: string }) => j.id)).toEqual([ids[1], ids[0]]);
    expect(second.next).toBeNull();
    const done = (await app.inject('/api/jobs?state=Done')).json();
    expect(done.jobs.map((j: { id: string }) => j.id)).toEqual([ids[0]]);
    expect((await app.inject('/api/jobs?state=Sleeping')).statusCode).toBe(400);
    expect((await app.inject('/api/jobs?limit=lots')).statusCode).toBe(400);
  });

  it('serves a live container’s metrics and logs from the runtime', async () => {
    const job = (await post({ message: 'hi' })).json();
    // Point the live container at this job's name.
    dash.deps.metrics.metrics = async (name: string) => (name === job.containerName ? LIVE_METRICS : null);
    dash.deps.runtime.logs = async (name: string) => (name === job.containerName ? 'live output\n' : null);
    const metrics = await app.inject(`/api/containers/${job.containerName}/metrics`);
    expect(metrics.json()).toEqual({ name: job.containerName, ...LIVE_METRICS });
    const logs = await app.inject(`/api/containers/${job.containerName}/logs`);
    expect(logs.headers['content-type']).toMatch(/^text\/plain/);
    expect(logs.body).toBe('live output\n');
  });

  it('serves a deleted container’s metrics and logs from the store, and 404 for an unknown one', async () => {
    const job = (await post({ message: 'hi' })).json();
    expect((await app.inject(`/api/containers/${job.containerName}/metrics`)).json()).toEqual({ name: job.containerName, cpu: [], memory: [] });
    await store.saveArtifacts(job.containerName, { logs: 'kept\n', metrics: LIVE_METRICS });
    expect((await app.inject(`/api/containers/${job.containerName}/metrics`)).json().cpu).toEqual(LIVE_METRICS.cpu);
    expect((await app.inject(`/api/containers/${job.containerName}/logs`)).body).toBe('kept\n');
    const unknown = await app.inject('/api/containers/task-unknown/metrics');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: 'no container named task-unknown' });
    expect((await app.inject('/api/containers/task-unknown/logs')).statusCode).toBe(404);
    expect((await app.inject('/api/containers/Not_A_Name/logs')).statusCode).toBe(400);
  });

  it('reports health: 200 when store and queue answer, 503 with the cause when one does not', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ ok: true, store: 'ok', queue: 'ok' });
    await queue.close();
    const down = await app.inject('/healthz');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ ok: false, store: 'ok' });
    expect(down.json().queue).toMatch(/^error: /);
  });

  it('answers an unknown route with a JSON 404', async () => {
    const response = await app.inject('/api/nothing');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'no route GET /api/nothing' });
  });
});
