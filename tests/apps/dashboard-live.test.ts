// The dashboard follows a task live (issue 25): the header's counts come in the same answer as
// the cards they count, logs are read on from an offset where the runtime can, and the details
// modal names what it can swap in as the task moves, and says when only a log's tail exists.
import { afterEach, describe, expect, it } from 'vitest';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';

describe('the dashboard, live', () => {
  let dashboard: DashboardUnderTest | null = null;
  afterEach(async () => {
    await dashboard?.close();
    dashboard = null;
  });
  const htmx = { 'hx-request': 'true', 'content-type': 'application/x-www-form-urlencoded' };

  it('answers "Add work" with the new cards and the header counts that include them, in one response', async () => {
    dashboard = await buildTestApp();
    const response = await dashboard.app.inject({ method: 'POST', url: '/ui/jobs', headers: htmx, payload: 'message=one&count=2' });
    expect(response.statusCode).toBe(201);
    expect(response.body.match(/<article /g)).toHaveLength(2);
    expect(response.body).toMatch(/<hx-partial hx-target="#totals" hx-swap="outerHTML"><div id="totals"[\s\S]*2 tasks[\s\S]*Pending <b>2<\/b>/);
  });

  it('answers an update poll with the changed cards and the counts together', async () => {
    dashboard = await buildTestApp();
    const before = await dashboard.store.currentRev();
    await submitWork({ message: 'one', kind: 'default' }, dashboard);
    const response = await dashboard.app.inject({ url: `/ui/updates?since=${before}`, headers: htmx });
    expect(response.body).toContain('<article ');
    expect(response.body).toMatch(/hx-target="#totals"[\s\S]*Pending <b>1<\/b>/);
  });

  it('reads a log on from an offset where the runtime can, and says when it sends the whole tail', async () => {
    const log = 'first line\nsecond line\n';
    dashboard = await buildTestApp({
      deps: {
        runtime: {
          logs: async (name) => (name === 'task-followed' ? log : null),
          logsFrom: async (name, from) => (name === 'task-followed' ? { text: log.slice(from), next: log.length } : null),
        },
      },
    });
    const job = await submitWork({ message: 'x', kind: 'default' }, dashboard);
    // A container the store knows: the task's own. Its runtime follows only task-followed.
    const tail = await dashboard.app.inject(`/api/containers/${job.containerName}/logs?from=5`);
    expect(tail.headers['x-log-read']).toBe('tail');
    await dashboard.store.saveArtifacts('task-followed', { logs: log, metrics: null });
    const from = await dashboard.app.inject('/api/containers/task-followed/logs?from=11');
    expect(from.statusCode).toBe(200);
    expect(from.body).toBe('second line\n');
    expect(from.headers).toMatchObject({ 'x-log-read': 'from-offset', 'x-log-next': String(log.length) });
    // Without `from`, as before: the whole log, no headers.
    const whole = await dashboard.app.inject('/api/containers/task-followed/logs');
    expect(whole.body).toBe(log);
    expect(whole.headers['x-log-read']).toBeUndefined();
    expect((await dashboard.app.inject('/api/containers/task-followed/logs?from=-1')).statusCode).toBe(400);
  });

  it('marks the modal’s live parts, and says so when a log can be read only as a tail (Azure)', async () => {
    dashboard = await buildTestApp();
    const job = await submitWork({ message: 'x', kind: 'default' }, dashboard);
    const tailOnly = (await dashboard.app.inject({ url: `/ui/containers/${job.containerName}/details`, headers: htmx })).body;
    expect(tailOnly).toContain(`data-details-url="/ui/containers/${job.containerName}/details"`);
    expect(tailOnly).toContain('data-live="true"');
    for (const part of ['head', 'message', 'attempts', 'timeline', 'cost']) expect(tailOnly).toContain(`data-live-part="${part}"`);
    expect(tailOnly).toMatch(/class="logs-note">Only the end of this container's log/);
    await dashboard.close();

    dashboard = await buildTestApp({ deps: { runtime: { logs: async () => null, logsFrom: async () => null } } });
    const other = await submitWork({ message: 'x', kind: 'default' }, dashboard);
    const followed = (await dashboard.app.inject({ url: `/ui/containers/${other.containerName}/details`, headers: htmx })).body;
    expect(followed).not.toContain('logs-note');
  });
});
