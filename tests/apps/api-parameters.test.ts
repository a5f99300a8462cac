import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';

/** GET /api/jobs's parameters and POST /api/jobs's body: each mistake a 400 that says what is wrong. */
describe('API parameters that say what is wrong', () => {
  let dash: DashboardUnderTest;
  beforeEach(async () => {
    dash = await buildTestApp();
  });
  afterEach(() => dash.close());

  const submit = async (body: object) => {
    const response = await dash.app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    expect(response.statusCode).toBe(202);
    return response.json().id as string;
  };
  const ids = async (url: string) => {
    const response = await dash.app.inject(url);
    expect(response.statusCode, url).toBe(200);
    return response.json().jobs.map((job: { id: string }) => job.id);
  };

  it('filters by kind, by state, and by both at once, paging within the filter', async () => {
    const words = [await submit({ message: 'a b', kind: 'wordcount' }), await submit({ message: 'c d', kind: 'wordcount' })];
    const plain = [await submit({ message: 'x' }), await submit({ message: 'y' })];
    const third = await submit({ message: 'e f', kind: 'wordcount' });
    await dash.store.markStarted(`task-${words[0]}`, new Date());
    await dash.store.markStarted(`task-${plain[1]}`, new Date());

    expect(await ids('/api/jobs?kind=wordcount')).toEqual([third, words[1], words[0]]);
    expect(await ids('/api/jobs?kind=default')).toEqual([plain[1], plain[0]]);
    expect(await ids('/api/jobs?kind=wordcount&state=InProgress')).toEqual([words[0]]);
    expect(await ids('/api/jobs?kind=wordcount&state=Pending')).toEqual([third, words[1]]);
    expect(await ids('/api/jobs?state=InProgress')).toEqual([plain[1], words[0]]);
    const first = (await dash.app.inject('/api/jobs?kind=wordcount&limit=2')).json();
    expect(first.jobs.map((job: { id: string }) => job.id)).toEqual([third, words[1]]);
    expect(await ids(`/api/jobs?kind=wordcount&limit=2&cursor=${first.next}`)).toEqual([words[0]]);
  });

  it('refuses an unknown parameter with 400, naming it and the ones it takes', async () => {
    const response = await dash.app.inject('/api/jobs?kinds=wordcount');
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe('the query has an unknown parameter "kinds"; it takes "state", "kind", "limit", "cursor"');
  });

  it('refuses a cursor it did not give out with 400', async () => {
    for (const cursor of ['garbage', '123', "x' OR 1=1"]) {
      const response = await dash.app.inject(`/api/jobs?cursor=${encodeURIComponent(cursor)}`);
      expect(response.statusCode, cursor).toBe(400);
      expect(response.json().error).toBe('cursor is not one this API gave: pass the "next" of the previous page as it came');
    }
  });

  it('names the allowed states in an enum error, and takes the state names as they are', async () => {
    const response = await dash.app.inject('/api/jobs?state=done');
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe('querystring/state must be one of "Pending", "InProgress", "Done", "Failed" (got "done")');
    for (const state of ['Pending', 'InProgress', 'Done', 'Failed']) expect((await dash.app.inject(`/api/jobs?state=${state}`)).statusCode).toBe(200);
  });

  it('refuses an unknown field in a submit body with 400, naming it, and stores nothing', async () => {
    const response = await dash.app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ message: 'hi', kinds: 'wordcount' }),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe('body has an unknown field "kinds"; it takes "message", "kind"');
    expect(await dash.isEmpty()).toBe(true);
  });

  it.each([
    ['form-urlencoded (curl -d)', 'application/x-www-form-urlencoded'],
    ['text/plain', 'text/plain'],
    ['text/plain with a charset', 'text/plain; charset=utf-8'],
  ])('says to send application/json when JSON comes as %s, storing nothing', async (_what, contentType) => {
    const response = await dash.app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': contentType }, payload: '{"message":"hi"}' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe(`the body looks like JSON but was sent as ${contentType.split(';')[0]}: send it with content-type: application/json`);
    expect(await dash.isEmpty()).toBe(true);
  });
});
