import type { ContainerGroup } from '@azure/arm-containerinstance';
import { describe, expect, it } from 'vitest';
import { toStatus } from '../../apps/core/adapters/azure/aci-runtime.js';
import { classifyArmError, classifyProvisioningFailure } from '../../apps/core/adapters/azure/arm-errors.js';
import { deferralDelayMs, deferralMessageId, deferredWorkMessage, nextDeferral } from '../../apps/core/domain/deferral.js';
import { shouldRetry } from '../../apps/core/domain/retry-policy.js';
import { parseKinds, startWaitSecondsOf } from '../../apps/core/domain/task-kind.js';
import { MalformedMessageError, parseQueueMessage } from '../../apps/spawner/queue-messages.js';
import { lookDelaySeconds } from '../../apps/spawner/watch.js';

// How a start that did not happen is judged: which ARM errors are the platform's, the deferral
// chain's ids and waits, and the start wait that bounds it (END_RULES' `not-started`).

const restError = (statusCode: number, code: string, message = 'said ARM') => Object.assign(new Error(message), { name: 'RestError', statusCode, code });

describe('ARM errors', () => {
  it('puts capacity, transient, throttling, aborted and network failures off, and refuses what the kind asked wrongly', () => {
    expect(classifyArmError(restError(409, 'ServiceUnavailable')).class).toBe('retry-later');
    expect(classifyArmError(restError(503, 'SomethingNew')).class).toBe('retry-later');
    expect(classifyArmError(restError(429, 'TooManyRequests')).class).toBe('retry-later');
    expect(classifyArmError(restError(400, 'InaccessibleImage')).class).toBe('retry-later');
    expect(classifyArmError(restError(403, 'AuthorizationFailed')).class).toBe('retry-later');
    expect(classifyArmError(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' })).class).toBe('retry-later');
    expect(classifyArmError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).class).toBe('retry-later');
    expect(classifyArmError(restError(400, 'InvalidImage', 'bad'))).toEqual({ class: 'kind', code: 'InvalidImage', message: 'bad' });
    expect(classifyArmError(restError(400, 'SomethingElse')).class).toBe('kind');
    expect(classifyArmError(new TypeError('a bug')).class).toBe('unknown');
  });

  it('reads a provisioning failure in any plausible form', () => {
    expect(classifyProvisioningFailure([{ code: 'Failed', message: 'Failed to pull image "x": manifest unknown' }])).toMatchObject({ code: 'InaccessibleImage', platform: true });
    expect(classifyProvisioningFailure([{ code: null, message: 'exec: "nope": executable file not found in $PATH' }])).toMatchObject({ platform: false });
    expect(classifyProvisioningFailure([{ code: 'InaccessibleImage', message: 'The image is not accessible' }])).toMatchObject({ code: 'InaccessibleImage', platform: true });
    expect(classifyProvisioningFailure([])).toMatchObject({ code: 'ProvisioningFailed', platform: true });
  });
});

describe('the deferral chain', () => {
  it('has fixed ids, doubling waits up to a bound, and keeps the first refusal\'s time', () => {
    expect(deferralMessageId('j1', 2, 3)).toBe('j1.deferred.2.3');
    expect([1, 2, 3, 4].map((n) => deferralDelayMs(n, 5000))).toEqual([5000, 10_000, 20_000, 40_000]);
    expect(deferralDelayMs(30, 5000)).toBe(5 * 60_000);
    const now = new Date('2026-12-04T10:00:00Z');
    const capacity = nextDeferral(undefined, false, now);
    expect(capacity).toEqual({ n: 1 });
    const refused = nextDeferral(capacity, true, now);
    expect(refused).toEqual({ n: 2, since: now.toISOString() });
    expect(nextDeferral(refused, true, new Date('2026-12-04T11:00:00Z'))).toEqual({ n: 3, since: now.toISOString() });
    const message = deferredWorkMessage({ id: 'j1', message: 'hi' }, 1, refused, now);
    expect(message).toEqual({ messageId: 'j1.deferred.1.2', body: { jobId: 'j1', message: 'hi', deferral: refused }, scheduledAt: now });
    expect(parseQueueMessage(message.body)).toEqual({ type: 'work', work: message.body });
  });

  it('refuses a malformed deferral or dead-letter copy as poison', () => {
    expect(() => parseQueueMessage({ jobId: 'j', message: 'm', deferral: { n: 0 } })).toThrow(MalformedMessageError);
    expect(() => parseQueueMessage({ jobId: 'j', message: 'm', deferral: { n: 1, since: 'yesterday' } })).toThrow(MalformedMessageError);
    expect(() => parseQueueMessage({ type: 'dead-letter', letter: {}, n: 1, since: '2026-12-04T10:00:00Z' })).toThrow(MalformedMessageError);
  });

  it('bounds not-started by the start wait, never by maxAttempts', () => {
    const policy = { maxAttempts: 1, retryOnExitCodes: [] };
    const end = { kind: 'not-started' as const, cause: 'capacity' };
    const since = new Date('2026-12-04T10:00:00Z');
    expect(shouldRetry(policy, 5, end, { since, seconds: 60, now: new Date(since.getTime() + 59_000) })).toBe(true);
    expect(shouldRetry(policy, 1, end, { since, seconds: 60, now: new Date(since.getTime() + 60_000) })).toBe(false);
  });

  it('reads a kind\'s startWaitSeconds, its timeout when absent', () => {
    const defaults = { cpu: 1, memoryGb: 1, timeoutSeconds: 600, retry: { maxAttempts: 3, retryOnExitCodes: [] } };
    const { kinds, problems } = parseKinds({ a: { image: 'x', startWaitSeconds: 900 }, b: { image: 'y', timeoutSeconds: 30 } }, 'KINDS', 'image', defaults);
    expect(problems).toEqual([]);
    expect(kinds.map(startWaitSecondsOf)).toEqual([900, 30]);
    expect(parseKinds({ a: { image: 'x', startWaitSeconds: 0 } }, 'KINDS', 'image', defaults).problems[0]).toMatch(/startWaitSeconds/);
  });
});

describe('the watch', () => {
  it('looks soon after a start, then backs off up to WATCH_SECONDS', () => {
    expect([1, 2, 3, 4, 5].map((n) => lookDelaySeconds(n, 30))).toEqual([5, 10, 20, 30, 30]);
    expect(lookDelaySeconds(1, 0.3)).toBe(0.3);
  });
});

describe('how an ACI attempt ended', () => {
  it('reads a code as the program’s exit (no source for a kill on ACI), no code as lost', () => {
    const group = (currentState: Record<string, unknown>, state = 'Failed') =>
      ({ name: 'g', tags: { 'job-id': 'j' }, provisioningState: 'Succeeded', instanceView: { state }, containers: [{ name: 'worker', instanceView: { currentState } }] }) as unknown as ContainerGroup;
    const start = new Date('2026-12-04T10:00:00Z');
    const finish = new Date('2026-12-04T10:01:00Z');
    expect(toStatus(group({ state: 'Terminated', startTime: start, finishTime: finish, exitCode: 137 }))).toMatchObject({
      state: 'Failed', exitCode: 137, startedAt: start.toISOString(), finishedAt: finish.toISOString(), end: { kind: 'exit', exitCode: 137 },
    });
    expect(toStatus(group({}, 'Stopped'))).toMatchObject({ state: 'Failed', exitCode: null, startedAt: null, end: { kind: 'lost' } });
    expect(toStatus(group({ state: 'Waiting', startTime: start }, 'Pending'))).toMatchObject({ state: 'NotStarted', startedAt: null });
  });
});
