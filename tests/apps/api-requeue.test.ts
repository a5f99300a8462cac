import { afterEach, describe, expect, it } from 'vitest';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import { queueDepth } from '../queue-inspection.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';

const TOKEN = 'a-long-enough-dashboard-token-123';

describe('POST /api/jobs/:id/requeue', () => {
  let dash: DashboardUnderTest;
  afterEach(() => dash.close());

  /** A task that ran and failed: its message delivered and completed, as the spawner leaves it. */
  async function failedTask(message = 'flaky', kind = 'wordcount') {
    const job = await submitWork({ message, kind }, dash.deps);
    await dash.queue.receive(1).then(([m]) => dash.queue.complete(m!));
    await dash.store.markFailed(job.containerName, new Date(), 'exit code 1');
    return job;
  }
  const requeue = (id: string, headers: Record<string, string> = {}) => dash.app.inject({ method: 'POST', url: `/api/jobs/${id}/requeue`, headers });

  it('answers 201 with the new task for a Failed one, queued, the failed one kept, and who asked', async () => {
    dash = await buildTestApp();
    const failed = await failedTask();
    const response = await requeue(failed.id);
    expect(response.statusCode).toBe(201);
    const task = response.json();
    expect(task).toMatchObject({ state: 'Pending', message: 'flaky', kind: 'wordcount', attempts: 0, output: null, requeueOf: { id: failed.id, by: 'anonymous' } });
    expect(task.id).not.toBe(failed.id);
    expect(response.headers.location).toBe(`/api/jobs/${task.id}`);
    expect(response.headers['idempotent-replayed']).toBeUndefined();
    expect(await dash.store.get(failed.id)).toMatchObject({ state: 'Failed', requeueOf: null });
    expect(await dash.store.get(task.id)).toMatchObject({ state: 'Pending', requeueOf: { id: failed.id, by: 'anonymous' } });
    const [message] = await dash.queue.receive(1);
    expect(message).toMatchObject({ messageId: task.id, body: { jobId: task.id, message: 'flaky' } });
  });

  it('answers a repeated requeue 200 with the first one’s task and Idempotent-Replayed: true, adding nothing', async () => {
    dash = await buildTestApp();
    const failed = await failedTask();
    const first = (await requeue(failed.id)).json();
    const again = await requeue(failed.id);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(first.id);
    expect((await dash.store.list({ limit: 10 })).jobs).toHaveLength(2);
    expect(queueDepth(dash.queue).active).toBe(1);
  });

  it('shares the dashboard’s Requeue: after the button, the API gets the button’s task, asked by the dashboard', async () => {
    dash = await buildTestApp();
    const failed = await failedTask();
    const button = await dash.app.inject({ method: 'POST', url: `/ui/jobs/${failed.id}/requeue`, headers: { 'hx-request': 'true' } });
    expect(button.statusCode).toBe(201);
    const api = await requeue(failed.id);
    expect(api.statusCode).toBe(200);
    expect(api.json()).toMatchObject({ requeueOf: { id: failed.id, by: 'dashboard' } });
    expect(button.body).toContain(`job-${api.json().id}`);
  });

  it('records a request with the access token as by "token"', async () => {
    dash = await buildTestApp({ accessToken: TOKEN });
    const failed = await failedTask();
    expect((await requeue(failed.id)).statusCode).toBe(401);
    const response = await requeue(failed.id, { authorization: `Bearer ${TOKEN}` });
    expect(response.statusCode).toBe(201);
    expect(response.json().requeueOf).toEqual({ id: failed.id, by: 'token' });
  });

  it('refuses any state but Failed with 409, and an unknown task with 404, adding nothing', async () => {
    dash = await buildTestApp();
    const pending = await submitWork({ message: 'waits', kind: 'default' }, dash.deps);
    const running = await submitWork({ message: 'runs', kind: 'default' }, dash.deps);
    const done = await submitWork({ message: 'ends', kind: 'default' }, dash.deps);
    await dash.store.markStarted(running.containerName, new Date());
    await dash.store.markDone(done.containerName, new Date(), 'ok');
    for (const [job, state] of [[pending, 'Pending'], [running, 'InProgress'], [done, 'Done']] as const) {
      const response = await requeue(job.id);
      expect(response.statusCode, state).toBe(409);
      expect(response.json()).toEqual({ error: `only a failed task can be requeued; this one is ${state}` });
    }
    const missing = await requeue('0190a000-0000-7000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
    expect((await dash.store.list({ limit: 10 })).jobs).toHaveLength(3);
  });
});
