import { afterEach, describe, expect, it } from 'vitest';
import { newJobId } from '../../apps/core/domain/job-id.js';
import { fingerprintOf, IDEMPOTENCY_KEY_HOURS, submitWorkOnce } from '../../apps/dashboard/submit-work.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';
import { queueDepth } from '../queue-inspection.js';

describe('Idempotency-Key on POST /api/jobs', () => {
  let dash: DashboardUnderTest;
  afterEach(async () => dash?.close());

  const post = (message: string, key?: string) =>
    dash.app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
      payload: JSON.stringify({ message }),
    });

  it('gives a client that retries after a lost answer the same task, stored and queued once', async () => {
    dash = await buildTestApp();
    const first = await post('resize photo-42', 'b5c1f0e2-retry-me');
    const retry = await post('resize photo-42', 'b5c1f0e2-retry-me');
    expect(first.statusCode).toBe(202);
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toEqual(first.json());
    expect(retry.headers.location).toBe(first.headers.location);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect((await dash.store.list({ limit: 10 })).jobs).toHaveLength(1);
    expect(queueDepth(dash.queue).active).toBe(1);
    // The quoted form of the header (a structured-field string) is the same key.
    expect((await post('resize photo-42', '"b5c1f0e2-retry-me"')).json().id).toBe(first.json().id);
  });

  it('refuses the same key with a different message with 422, storing nothing', async () => {
    dash = await buildTestApp();
    const first = await post('one thing', 'key-1');
    const other = await post('another thing', 'key-1');
    expect(other.statusCode).toBe(422);
    expect(other.json().error).toMatch(/^this Idempotency-Key was used at .+ for other work; new work needs a new key$/);
    expect((await dash.store.list({ limit: 10 })).jobs.map((j) => j.id)).toEqual([first.json().id]);
    expect(queueDepth(dash.queue).active).toBe(1);
  });

  it('makes new work for a new key or no key', async () => {
    dash = await buildTestApp();
    const a = await post('same', 'key-a');
    const b = await post('same', 'key-b');
    const none = await post('same');
    expect(new Set([a.json().id, b.json().id, none.json().id]).size).toBe(3);
  });

  it('refuses a key that is empty, too long or not printable ASCII', async () => {
    dash = await buildTestApp();
    for (const key of ['', 'k'.repeat(256), 'clé']) {
      const response = await post('hi', key);
      expect(response.statusCode, key).toBe(400);
      expect(response.json().error).toBe('the Idempotency-Key header must be 1 to 255 printable ASCII characters');
    }
    expect(await dash.isEmpty()).toBe(true);
  });

  it(`remembers a key for ${IDEMPOTENCY_KEY_HOURS} hours, then makes new work`, async () => {
    dash = await buildTestApp();
    const dayAgo = new Date(Date.now() - IDEMPOTENCY_KEY_HOURS * 3600_000 - 1000);
    const old = await submitWorkOnce({ message: 'nightly report', kind: 'default' }, 'api:nightly', dash.deps, dayAgo);
    const almostDayAgo = new Date(Date.now() - IDEMPOTENCY_KEY_HOURS * 3600_000 + 60_000);
    const recent = await submitWorkOnce({ message: 'hourly report', kind: 'default' }, 'api:hourly', dash.deps, almostDayAgo);
    expect((await post('nightly report', 'nightly')).json().id).not.toBe(old.job.id);
    expect((await post('hourly report', 'hourly')).json().id).toBe(recent.job.id);
  });

  it('forgets the key when the queue refuses, so a retry tries again as new work', async () => {
    dash = await buildTestApp();
    const send = dash.queue.send.bind(dash.queue);
    dash.deps.queue.send = async () => {
      throw new Error('namespace unreachable');
    };
    const refused = await post('hi', 'key-503');
    expect(refused.statusCode).toBe(503);
    dash.deps.queue.send = send;
    const retry = await post('hi', 'key-503');
    expect(retry.statusCode).toBe(202);
    const { jobs } = await dash.store.list({ limit: 10 });
    expect(jobs.map((j) => j.state)).toEqual(['Pending', 'Failed']);
    expect(retry.json().id).toBe(jobs[0]!.id);
  });

  it('finishes what an earlier request with the key left undone: the job is stored and queued', async () => {
    dash = await buildTestApp();
    // A request that claimed the key and stopped (a crash) before it stored its job.
    const claimed = newJobId();
    await dash.store.claimIdempotencyKey(
      { key: 'api:crashed', fingerprint: fingerprintOf({ message: 'hi', kind: 'default' }), jobId: claimed, createdAt: new Date().toISOString() },
      new Date(0),
    );
    const retry = await post('hi', 'crashed');
    expect(retry.statusCode).toBe(202);
    expect(retry.json().id).toBe(claimed);
    expect(await dash.store.get(claimed)).toMatchObject({ state: 'Pending', message: 'hi' });
    const [message] = await dash.queue.receive(1);
    expect(message?.messageId).toBe(claimed);
  });
});
