import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outputFromLogs, outputJsonFromLogs } from '../../apps/core/domain/container-output.js';
import { jobCostUsd } from '../../apps/core/domain/pricing.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';

describe('the task object: output as JSON, money rounded', () => {
  let dash: DashboardUnderTest;
  beforeEach(async () => {
    dash = await buildTestApp();
  });
  afterEach(() => dash.close());

  const submitted = async () =>
    (await dash.app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: '{"message":"hi"}' })).json() as { id: string; containerName: string };
  /** Done as the settle step records a container's end: the text, and the JSON where there is one. */
  const doneWithLogs = async (logs: string) => {
    const job = await submitted();
    await dash.store.markDone(job.containerName, new Date(), outputFromLogs(logs), outputJsonFromLogs(logs));
    return (await dash.app.inject(`/api/jobs/${job.id}`)).json().output as unknown;
  };

  it.each([
    ['an object', '{"output": {"length": 5}}', { length: 5 }],
    ['an array', 'progress 1\n{"output": [1, "two", null]}', [1, 'two', null]],
    ['a number', '{"output": 42}', 42],
    ['null', '{"output": null}', null],
    ['a string', '{"output": "five words"}', 'five words'],
    ['a plain last line (text, never parsed)', 'starting\n42', '42'],
    ['a JSON-looking plain line without "output"', '{"length": 5}', '{"length": 5}'],
  ])('returns %s as the program gave it', async (_what, logs, expected) => {
    expect(await doneWithLogs(logs)).toEqual(expected);
  });

  it('returns the text of a job finished before JSON results were kept (a string, as then)', async () => {
    const job = await submitted();
    await dash.store.markDone(job.containerName, new Date(), '{"length":5}');
    expect((await dash.app.inject(`/api/jobs/${job.id}`)).json().output).toBe('{"length":5}');
    expect((await dash.app.inject('/api/jobs')).json().jobs[0].output).toBe('{"length":5}');
  });

  it('keeps a result too long to store whole as its capped text, never as a cut JSON text', async () => {
    const output = await doneWithLogs(JSON.stringify({ output: { text: 'x'.repeat(5000) } }));
    expect(typeof output).toBe('string');
    expect((output as string).endsWith('…')).toBe(true);
  });

  it('returns the JSON value in the list too, and never the internal outputJson field', async () => {
    await doneWithLogs('{"output": {"length": 5}}');
    const [listed] = (await dash.app.inject('/api/jobs')).json().jobs;
    expect(listed.output).toEqual({ length: 5 });
    expect(listed).not.toHaveProperty('outputJson');
  });

  it('rounds costUsd to 1e-9 USD, with none of the float noise of the sum', async () => {
    const job = await submitted();
    const at = Date.parse('2026-01-01T00:00:00.000Z');
    await dash.store.markDispatched(job.containerName, 1, new Date(at), { cpu: 1, memoryGb: 1.5 });
    await dash.store.markStarted(job.containerName, new Date(at));
    await dash.store.markDone(job.containerName, new Date(at + 3000), 'ok');
    const raw = jobCostUsd((await dash.store.get(job.id))!, dash.deps.prices)!;
    expect(String(raw)).toBe('0.000047249999999999997'); // 3 s of 1 vCPU and 1.5 GB, summed in floats
    const response = await dash.app.inject(`/api/jobs/${job.id}`);
    const costUsd = response.json().costUsd as number;
    expect(costUsd).toBe(Math.round(raw * 1e9) / 1e9);
    expect(Math.abs(costUsd * 1e9 - Math.round(costUsd * 1e9))).toBeLessThan(1e-6);
    // The body carries the short form: at most nine decimals.
    expect(response.body).toMatch(/"costUsd":0\.\d{1,9}[,}]/);
  });
});
