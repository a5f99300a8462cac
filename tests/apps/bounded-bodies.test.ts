import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { environmentProblem, MAX_ARG_STRLEN } from '../../apps/core/domain/environment-limits.js';
import { MAX_JSON_DEPTH } from '../../apps/dashboard/json-depth.js';
import { validateWork } from '../../apps/dashboard/submit-work.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';

const json = { 'content-type': 'application/json' };

describe('bodies within bounds: refused with 400 or 413, nothing stored', () => {
  let dash: DashboardUnderTest;
  afterEach(async () => dash?.close());
  const postJson = (payload: string) => dash.app.inject({ method: 'POST', url: '/api/jobs', headers: json, payload });

  it('refuses JSON nested 100,000 deep (inside the size limit) with 400 naming the bound, not 500', async () => {
    dash = await buildTestApp();
    for (const payload of ['['.repeat(100_000), `{"message":"hi","x":${'['.repeat(50_000)}${']'.repeat(50_000)}}`, `{"message":"hi","x":${'{"a":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}}`]) {
      const response = await postJson(payload);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ error: `the body nests arrays or objects more than ${MAX_JSON_DEPTH} deep` });
    }
    // Brackets inside strings are text, and nesting up to the bound is fine.
    expect((await postJson(JSON.stringify({ message: '['.repeat(60_000) }))).statusCode).toBe(202);
    // Nested up to the bound, the body passes the parser: what refuses it then is the schema, which
    // names the unknown field (the submit body is closed), not the depth.
    const deepest = `{"message":"hi","x":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`;
    const atTheBound = await postJson(deepest);
    expect(atTheBound.statusCode).toBe(400);
    expect(atTheBound.json().error).toMatch(/\bx\b/);
    expect(atTheBound.json().error).not.toMatch(/nests/);
    await dash.close();
    dash = await buildTestApp();
    await postJson('['.repeat(100_000));
    expect(await dash.isEmpty()).toBe(true);
  });

  it('refuses a message of lone UTF-16 surrogates with 400, storing nothing', async () => {
    dash = await buildTestApp();
    // What the attack sent: "\ud800" × 21,845 as JSON escapes, 65,536 bytes by Buffer.byteLength.
    const api = await postJson(`{"message":"${'\\ud800'.repeat(21_845)}"}`);
    expect(api.statusCode).toBe(400);
    expect(api.json().error).toMatch(/^message is not well-formed Unicode: it has a lone UTF-16 surrogate/);
    expect((await postJson(JSON.stringify({ message: 'tail \udc00' }))).statusCode).toBe(400);
    await dash.close();
    dash = await buildTestApp();
    await postJson(`{"message":"${'\\ud800'.repeat(21_845)}"}`);
    expect(await dash.isEmpty()).toBe(true);
    // A pair is one character, and fine.
    expect((await postJson(JSON.stringify({ message: 'emoji 😀 \ud83d\ude00' }))).statusCode).toBe(202);
  });

  it('refuses at submit a message that would not fit the kind’s container environment (never E2BIG later), storing nothing', async () => {
    // A kind whose own values leave less room than the message needs: 15 variables of 127 KiB.
    const big = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`BIG_${i}`, 'v'.repeat(127 * 1024)]));
    dash = await buildTestApp({ deps: { kindEnvironment: (kind) => (kind === 'wordcount' ? big : {}) } });
    const refused = await postJson(JSON.stringify({ message: 'm'.repeat(60_000), kind: 'wordcount' }));
    expect(refused.statusCode).toBe(413);
    expect(refused.json().error).toMatch(/^message does not fit a container's environment: the container's environment would be \d+ bytes; at most \d+ fit/);
    expect(await dash.isEmpty()).toBe(true);
    expect((await postJson(JSON.stringify({ message: 'm'.repeat(60_000), kind: 'default' }))).statusCode).toBe(202);
  });

  it('is one function a batch route can apply to each item', () => {
    const rules = { kinds: ['default'] };
    expect(validateWork({ message: 'hi' }, rules)).toEqual({ message: 'hi', kind: 'default' });
    expect(() => validateWork({ message: '\ud800' }, rules)).toThrow(/not well-formed Unicode/);
    expect(() => validateWork({ message: 'hi', kind: 'other' }, rules)).toThrow(/kind "other" is not one this stack runs/);
  });
});

describe('the environment bounds are Linux’s own', () => {
  it('a variable of MAX_ARG_STRLEN bytes (NUL included) starts a process, one byte more is E2BIG, and environmentProblem agrees', () => {
    const fits = { MESSAGE: 'a'.repeat(MAX_ARG_STRLEN - 'MESSAGE='.length - 1) };
    const over = { MESSAGE: `${fits.MESSAGE}a` };
    expect(spawnSync('/bin/true', [], { env: fits }).error).toBeUndefined();
    expect((spawnSync('/bin/true', [], { env: over }).error as NodeJS.ErrnoException | undefined)?.code).toBe('E2BIG');
    expect(environmentProblem(fits)).toBeNull();
    expect(environmentProblem(over)).toMatch(/MESSAGE would be 131073 bytes .* at most 131072 bytes \(MAX_ARG_STRLEN\)/);
  });

  it('an environment past the budget is refused before ARG_MAX would refuse it', () => {
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`V${i}`, 'v'.repeat(127 * 1024)]));
    expect(environmentProblem(many)).toMatch(/the container's environment would be/);
    expect((spawnSync('/bin/true', [], { env: many }).error as NodeJS.ErrnoException | undefined)?.code).toBe('E2BIG');
  });
});
