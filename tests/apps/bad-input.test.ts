import { afterEach, describe, expect, it } from 'vitest';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';
import { queueDepth } from '../queue-inspection.js';

const TOKEN = 'a-long-enough-dashboard-token-123';
const json = { 'content-type': 'application/json' };
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('bad input gets a clear answer and changes nothing', () => {
  let dash: DashboardUnderTest;
  afterEach(async () => dash?.close());

  const postJson = (payload: string, headers: Record<string, string> = {}) =>
    dash.app.inject({ method: 'POST', url: '/api/jobs', headers: { ...json, ...headers }, payload });

  it('refuses a message with a NUL character, from the API and from the form', async () => {
    dash = await buildTestApp();
    const api = await postJson(JSON.stringify({ message: 'before\u0000after' }));
    expect(api.statusCode).toBe(400);
    expect(api.json()).toEqual({ error: 'message must not contain a NUL character (U+0000)' });
    const fromForm = await dash.app.inject({ method: 'POST', url: '/ui/jobs', headers: { ...form, 'hx-request': 'true' }, payload: 'message=a%00b' });
    expect(fromForm.statusCode).toBe(400);
    expect(fromForm.body).toContain('NUL character');
    expect(await dash.isEmpty()).toBe(true);
  });

  it('refuses a count of copies outside 1 to 100 instead of changing it', async () => {
    dash = await buildTestApp();
    for (const count of ['0', '101', '1000', 'many', '-1', '2.5']) {
      const response = await dash.app.inject({ method: 'POST', url: '/ui/jobs', headers: form, payload: `message=hi&count=${count}` });
      expect(response.statusCode, count).toBe(400);
      expect(response.json().error).toBe(`count must be a whole number from 1 to 100 (got "${count}")`);
    }
    expect(await dash.isEmpty()).toBe(true);
    const hundred = await dash.app.inject({ method: 'POST', url: '/ui/jobs', headers: form, payload: 'message=hi&count=100' });
    expect(hundred.statusCode).toBe(201);
    expect((await dash.store.counts()).Pending).toBe(100);
  });

  it('refuses a page size outside 1 to 500, as the README says', async () => {
    dash = await buildTestApp();
    for (const limit of ['0', '501', 'lots']) {
      const response = await dash.app.inject(`/api/jobs?limit=${limit}`);
      expect(response.statusCode, limit).toBe(400);
      expect(response.json().error).toBe(`limit must be a whole number from 1 to 500 (got "${limit}")`);
    }
    expect((await dash.app.inject('/api/jobs?limit=500')).statusCode).toBe(200);
    expect((await dash.app.inject('/api/jobs?limit=1')).statusCode).toBe(200);
  });

  it('says which key is refused in a body with __proto__ or constructor.prototype, and what is wrong with broken JSON', async () => {
    dash = await buildTestApp();
    const proto = await postJson('{"message":"hi","__proto__":{"admin":true}}');
    expect(proto.statusCode).toBe(400);
    expect(proto.json()).toEqual({ error: 'the body may not contain a "__proto__" key' });
    const ctor = await postJson('{"message":"hi","constructor":{"prototype":{"admin":true}}}');
    expect(ctor.statusCode).toBe(400);
    expect(ctor.json().error).toBe('the body may not contain a "constructor" key with a "prototype" inside');
    const broken = await postJson('{"message": "hi"');
    expect(broken.json().error).toMatch(/^the body is not valid JSON: /);
    const empty = await postJson('');
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error).toMatch(/^the body is empty/);
    expect(await dash.isEmpty()).toBe(true);
  });

  it('answers a malformed URL through the app’s own error handler, with its headers', async () => {
    dash = await buildTestApp();
    for (const [url, status, error] of [
      ['/api/jobs/%ff', 400, 'the URL path is not valid: a %-escape in it is not UTF-8'],
      [`/api/jobs/${'a'.repeat(101)}`, 414, 'the URL path is too long: a part of it may be at most 100 characters'],
    ] as const) {
      const response = await dash.app.inject(url);
      expect(response.statusCode, url).toBe(status);
      expect(response.json(), url).toEqual({ error });
      expect(response.headers['content-security-policy'], url).toContain("default-src 'self'");
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
    const fragment = await dash.app.inject({ method: 'POST', url: '/ui/jobs/%ff/requeue', headers: { 'hx-request': 'true' } });
    expect(fragment.statusCode).toBe(400);
    expect(fragment.body).toBe('<p class="error" role="alert">the URL path is not valid: a %-escape in it is not UTF-8</p>');
    // An id at the limit is an ordinary lookup.
    expect((await dash.app.inject(`/api/jobs/${'a'.repeat(100)}`)).statusCode).toBe(404);
  });

  it('checks the access token before it answers a malformed URL, and refuses a foreign host first', async () => {
    dash = await buildTestApp({ accessToken: TOKEN });
    const anonymous = await dash.app.inject('/api/jobs/%ff');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error).toMatch(/access token is required/);
    const tooLong = await dash.app.inject(`/api/jobs/${'a'.repeat(200)}`);
    expect(tooLong.statusCode).toBe(401);
    const signedIn = await dash.app.inject({ url: '/api/jobs/%ff', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(signedIn.statusCode).toBe(400);
    const foreign = await dash.app.inject({ url: '/api/jobs/%ff', headers: { host: 'evil.example', authorization: `Bearer ${TOKEN}` } });
    expect(foreign.statusCode).toBe(421);
  });

  it('requeues a failed task once: a second Requeue answers with the first one’s new task', async () => {
    dash = await buildTestApp();
    const failed = await submitWork({ message: 'flaky', kind: 'default' }, dash.deps);
    await dash.queue.receive(1).then(([m]) => dash.queue.complete(m!));
    await dash.store.markFailed(failed.containerName, new Date(), 'exit code 1');
    const requeue = () => dash.app.inject({ method: 'POST', url: `/ui/jobs/${failed.id}/requeue`, headers: { 'hx-request': 'true' } });
    const first = await requeue();
    const second = await requeue();
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    const idOf = (body: string) => /id="job-([^"]+)"/.exec(body)?.[1];
    expect(idOf(second.body)).toBe(idOf(first.body));
    const { jobs } = await dash.store.list({ limit: 10 });
    expect(jobs.map((j) => [j.message, j.state])).toEqual([
      ['flaky', 'Pending'],
      ['flaky', 'Failed'],
    ]);
    expect(queueDepth(dash.queue).active).toBe(1);
  });
});
