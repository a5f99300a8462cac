import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import type { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import { formatUsd, orderKey } from '../../apps/dashboard/views/format.js';
import { containerNameFor } from '../../apps/core/domain/container-name.js';
import { DEFAULT_PRICES } from '../../apps/core/domain/pricing.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';
import { queueDepth } from '../queue-inspection.js';

const HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>" hx-get="/x';

describe('dashboard pages and fragments', () => {
  let dashboard: DashboardUnderTest;
  let store: SqliteJobStore;
  let queue: SqliteWorkQueue;
  let app: FastifyInstance;

  beforeEach(async () => {
    dashboard = await buildTestApp();
    ({ store, queue, app } = dashboard);
  });
  afterEach(async () => dashboard.close());

  const htmx = { 'hx-request': 'true', 'content-type': 'application/x-www-form-urlencoded' };
  const addWork = (body: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/ui/jobs', headers: { ...htmx, ...headers }, payload: body });

  it('serves the page: the form, the newest tasks, the totals and a poller at the current revision', async () => {
    const first = await submitWork({ message: 'first', kind: 'default' }, { store, queue });
    const second = await submitWork({ message: 'second', kind: 'default' }, { store, queue });
    const response = await app.inject('/');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    const page = response.body;
    expect(page).toContain('<form id="add-work"');
    expect(page.indexOf(`id="job-${second.id}"`)).toBeLessThan(page.indexOf(`id="job-${first.id}"`));
    expect(page).toContain(`hx-get="/ui/updates?since=${await store.currentRev()}"`);
    expect(page).toMatch(/Pending <b>2<\/b>/);
    expect(page).toContain('/static/htmx.min.js');
  });

  it('pages 10,000 tasks: the newest 50 and a way to the older ones', async () => {
    for (let i = 0; i < 10_000; i++) await submitWork({ message: `task ${i}`, kind: 'default' }, { store, queue });
    const page = (await app.inject('/')).body;
    expect(page.match(/<article /g)).toHaveLength(50);
    expect(page).toContain('task 9999');
    expect(page).toMatch(/hx-get="\/ui\/jobs\?cursor=[0-9a-f-]+"/);
    const cursor = /hx-get="\/ui\/jobs\?cursor=([0-9a-f-]+)"/.exec(page)![1]!;
    const older = (await app.inject(`/ui/jobs?cursor=${cursor}`)).body;
    expect(older.match(/<article /g)).toHaveLength(50);
    expect(older).toContain('task 9949');
    expect(older).toContain('<hx-upsert hx-target="#cards"');
    expect(page).toContain('10000 tasks');
  });

  it('adds work from the form: Pending cards at once, one per copy, all queued', async () => {
    const response = await addWork('message=resize+photo&count=3');
    expect(response.statusCode).toBe(201);
    expect(response.body.match(/class="card state-pending"/g)).toHaveLength(3);
    expect(response.body).toMatch(/^<hx-upsert hx-target="#cards" key="data-order" sort="desc">/);
    expect(response.body).toContain('waiting for a container');
    expect((await store.counts()).Pending).toBe(3);
    expect(queueDepth(queue)).toEqual({ active: 3, deadLettered: 0 });
  });

  it('answers bad form input with an HTML fragment htmx shows in the form, storing nothing', async () => {
    const response = await addWork('message=+++&count=1');
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toBe('<p class="error" role="alert">message must not be empty or only whitespace</p>');
    expect((await addWork('message=hi&count=many')).statusCode).toBe(400);
    expect((await addWork(`message=${'x'.repeat(70_000)}`)).statusCode).toBe(413);
    expect((await store.counts()).Pending).toBe(0);
  });

  it('refuses a POST from another site', async () => {
    const fromElsewhere = await addWork('message=hi', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(fromElsewhere.statusCode).toBe(403);
    expect(fromElsewhere.body).toContain('a cross-site request may not change anything here');
    const originOnly = await app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      payload: '{"message":"hi"}',
    });
    expect(originOnly.statusCode).toBe(403);
    expect(originOnly.json().error).toBe('a request from https://evil.example may not change anything here');
    const sameOrigin = await addWork('message=hi', { origin: 'http://localhost:80', host: 'localhost:80', 'sec-fetch-site': 'same-origin' });
    expect(sameOrigin.statusCode).toBe(201);
    expect((await store.counts()).Pending).toBe(1);
  });

  it('shows a hostile message only as text, in cards and in details', async () => {
    const job = await submitWork({ message: HOSTILE, kind: 'default' }, { store, queue });
    const page = (await app.inject('/')).body;
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;&quot; hx-get=&quot;/x');
    const details = (await app.inject(`/ui/containers/${job.containerName}/details`)).body;
    expect(details).not.toContain('<img src=x');
    expect(details).toContain('&lt;img src=x');
  });

  it('sends only what changed since the poller’s revision, and 204 when nothing did', async () => {
    const a = await submitWork({ message: 'a', kind: 'default' }, { store, queue });
    const b = await submitWork({ message: 'b', kind: 'default' }, { store, queue });
    const since = await store.currentRev();
    const idle = await app.inject(`/ui/updates?since=${since}`);
    expect(idle.statusCode).toBe(204);
    expect(idle.body).toBe('');

    await store.markStarted(b.containerName, new Date());
    await store.reportProgress(b.containerName, 0.4);
    const update = await app.inject(`/ui/updates?since=${since}`);
    expect(update.statusCode).toBe(200);
    const body = update.body;
    expect(body).toContain(`hx-get="/ui/updates?since=${await store.currentRev()}"`);
    expect(body).toContain(`id="job-${b.id}" class="card state-inprogress"`);
    // A long name is cut on a narrow card: the whole name is its tooltip.
    expect(body).toContain(`<code class="container" title="${b.containerName}">${b.containerName}</code>`);
    expect(body).toContain('<progress max="100" value="40">');
    expect(body).not.toContain(`job-${a.id}`);
    expect(body.match(/<article /g)).toHaveLength(1);
    expect(body).toContain('<hx-partial hx-target="#totals" hx-swap="outerHTML"><div id="totals"');
    expect((await app.inject(`/ui/updates?since=${await store.currentRev()}`)).statusCode).toBe(204);
    expect((await app.inject('/ui/updates?since=abc')).statusCode).toBe(400);
  });

  it('shows Done in green with the output and its cost, Failed in red with the reason and a Requeue', async () => {
    const done = await submitWork({ message: 'done', kind: 'default' }, { store, queue });
    const failed = await submitWork({ message: 'broken', kind: 'default' }, { store, queue });
    const t0 = new Date('2026-01-01T00:00:00Z');
    await store.markDispatched(done.containerName, 1, t0, { cpu: 1, memoryGb: 1.5 });
    await store.markDone(done.containerName, new Date(t0.getTime() + 4000), 'all good');
    await store.markFailed(failed.containerName, new Date(), 'dead-lettered after 5 deliveries');
    const page = (await app.inject('/')).body;
    const doneCard = page.slice(page.indexOf(`id="job-${done.id}"`));
    expect(doneCard).toMatch(/^id="job-[^"]+" class="card state-done"[\s\S]*?<span class="badge">Done<\/span>[\s\S]*?all good[\s\S]*?>\$0\.000063</);
    const failedCard = page.slice(page.indexOf(`id="job-${failed.id}"`));
    expect(failedCard).toMatch(/^id="job-[^"]+" class="card state-failed"[\s\S]*?<span class="badge">Failed<\/span>[\s\S]*?<p class="reason">dead-lettered after 5 deliveries<\/p>[\s\S]*?Requeue/);
    expect(page).not.toMatch(new RegExp(`ui/jobs/${done.id}/requeue`));

    const requeued = await app.inject({ method: 'POST', url: `/ui/jobs/${failed.id}/requeue`, headers: { 'hx-request': 'true' } });
    expect(requeued.statusCode).toBe(201);
    expect(requeued.body).toContain('class="card state-pending"');
    const { jobs } = await store.list({ limit: 10 });
    expect(jobs.map((j) => [j.message, j.state])).toEqual([
      ['broken', 'Pending'],
      ['broken', 'Failed'],
      ['done', 'Done'],
    ]);
    expect((await app.inject({ method: 'POST', url: '/ui/jobs/nope/requeue' })).statusCode).toBe(404);
    const notFailed = await app.inject({ method: 'POST', url: `/ui/jobs/${done.id}/requeue` });
    expect(notFailed.statusCode).toBe(409);
    expect(notFailed.json().error).toBe('only a failed task can be requeued; this one is Done');
  });

  it('renders More Details: a dialog with the timeline, the cost and the endpoints it loads', async () => {
    const job = await submitWork({ message: 'details', kind: 'default' }, { store, queue });
    await store.markDispatched(job.containerName, 1, new Date('2026-01-01T00:00:00.100Z'), { cpu: 1, memoryGb: 1.5 });
    await store.markStarted(job.containerName, new Date('2026-01-01T00:00:00.600Z'));
    const response = await app.inject(`/ui/containers/${job.containerName}/details`);
    expect(response.statusCode).toBe(200);
    const dialog = response.body;
    expect(dialog).toMatch(/^<dialog class="details state-inprogress"/);
    expect(dialog).toContain(`data-metrics-url="/api/containers/${job.containerName}/metrics"`);
    expect(dialog).toContain(`data-logs-url="/api/containers/${job.containerName}/logs"`);
    expect(dialog).toContain('data-live="true"');
    expect(dialog).toContain('container start: 500 ms');
    expect(dialog).toMatch(/Finished<\/span>\s*<span class="not-yet">not yet/);
    expect(dialog).toContain('for 1 vCPU and 1.5 GiB');
    // One time format: every moment a <time> the page's script shows in local time, its UTC the tooltip.
    expect(dialog).toContain('<time datetime="2026-01-01T00:00:00.600Z" title="2026-01-01 00:00:00.600 UTC">00:00:00 UTC</time>');
    expect(dialog).not.toMatch(/\d\d:\d\d:\d\d\.\d{3} UTC<\/time>/);
    expect((await app.inject('/ui/containers/task-nobody/details')).statusCode).toBe(404);
  });

  it('shows a task run again: its attempt on the card, and each earlier attempt with its reason and cost in the details', async () => {
    const job = await submitWork({ message: 'twice', kind: 'default' }, { store, queue });
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    await store.markDispatched(job.containerName, 1, new Date(t0), { cpu: 1, memoryGb: 1.5 });
    await store.markStarted(job.containerName, new Date(t0 + 500));
    const reason = 'the container was killed by signal 9 (exit code 137)';
    const second = containerNameFor(job.id, 2);
    await store.beginRetry(job.containerName, {
      containerName: second,
      ended: { n: 1, containerName: job.containerName, dispatchedAt: new Date(t0).toISOString(), startedAt: new Date(t0 + 500).toISOString(), finishedAt: new Date(t0 + 3500).toISOString(), cpu: 1, memoryGb: 1.5, reason },
    });
    const waiting = (await app.inject('/')).body;
    expect(waiting).toContain('<span class="attempt" title="earlier attempts were lost or killed">attempt 2</span>');
    expect(waiting).toContain(`<p class="retry">Attempt 1 ended, running it again: ${reason}</p>`);

    await store.markDispatched(second, 2, new Date(t0 + 5000), { cpu: 1, memoryGb: 1.5 });
    await store.markDone(second, new Date(t0 + 7000), 'out');
    const dialog = (await app.inject(`/ui/containers/${second}/details`)).body;
    expect(dialog).toContain('<h3>Earlier attempts</h3>');
    expect(dialog).toContain(`<code>${job.containerName}</code>`);
    expect(dialog).toContain(`ended <time datetime="${new Date(t0 + 3500).toISOString()}" title=`);
    expect(dialog).toContain(`<p class="reason">${reason}</p>`);
    // 4 s for the first attempt, 2 s for the second, at 1 vCPU and 1.5 GiB: both in the task's cost.
    const perSecond = DEFAULT_PRICES.vcpuSecondUsd + 1.5 * DEFAULT_PRICES.gbSecondUsd;
    expect(dialog).toContain(`<span class="cost">${formatUsd(4 * perSecond)}</span>`);
    expect(dialog).toContain(`${formatUsd(6 * perSecond)} for 1 vCPU and 1.5 GiB, billed per second`);
    expect(dialog).toContain('every attempt included');
  });

  it('serves its assets itself, so the page works offline', async () => {
    for (const [name, type] of [
      ['htmx.min.js', 'text/javascript'],
      ['hx-upsert.min.js', 'text/javascript'],
      ['dashboard.js', 'text/javascript'],
      ['dashboard.css', 'text/css'],
      ['favicon.svg', 'image/svg+xml'],
    ]) {
      const response = await app.inject(`/static/${name}`);
      expect(response.statusCode, name).toBe(200);
      expect(response.headers['content-type']).toContain(type!);
      expect(response.body.length).toBeGreaterThan(100);
    }
    expect((await app.inject('/static/../package.json')).statusCode).toBe(404);
    // The icon a browser asks for by default is there too, and the page names it (img-src 'self').
    const icon = await app.inject('/favicon.ico');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toContain('image/svg+xml');
    expect(icon.body).toMatch(/^<svg [^>]*>/);
    expect(icon.body).not.toMatch(/<script|on\w+=/i);
    const page = await app.inject('/');
    expect(page.body).toContain('<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">');
    expect(page.headers['content-security-policy']).toMatch(/img-src 'self'/);
  });

  it('orders cards by a key that sorts the same as the ids', () => {
    const ids = ['01a22453-e19c-7006-b845-d0986d0a8263', '01a22453-e19c-7007-b845-d0986d0a8263', '01a2245b-0d94-702c-999e-cbf64b8b80db', '019f0000-0000-7fff-8000-000000000000'];
    const sorted = [...ids].sort();
    const byKey = [...ids].sort((x, y) => orderKey(x).localeCompare(orderKey(y), undefined, { numeric: true }));
    expect(byKey).toEqual(sorted);
  });
});
