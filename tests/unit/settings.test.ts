import { describe, expect, it } from 'vitest';
import { jobCostUsd } from '../../apps/core/domain/pricing.js';
import { newPendingJob } from '../../apps/core/domain/job.js';
import { parseWorkerEnv } from '../../apps/core/domain/worker-contract.js';
import { readLocalSettings } from '../../stacks/local/settings.js';
import { withFixtureKinds } from '../helpers.js';

describe('readLocalSettings', () => {
  it('has a default for everything', () => {
    const settings = readLocalSettings(withFixtureKinds());
    expect(settings).toMatchObject({ host: '127.0.0.1', port: 3000, maxConcurrent: 4, maxDeliveryCount: 5, lockDurationSeconds: 60 });
    expect(settings.kinds.defaultKind).toMatchObject({ name: 'default', cpu: 1, memoryGb: 1.5, timeoutSeconds: 600, env: { WORK_SECONDS: '5' }, store: true });
    expect(settings.databaseUri).toMatch(/^sqlite:.*\.data\/jobs\.db$/);
  });

  it('names every bad value and what it got', () => {
    const all = () => readLocalSettings(withFixtureKinds({ PORT: 'eighty', MAX_CONCURRENT: '0', WORK_SECONDS: '-1' }));
    expect(all).toThrow(/PORT must be a whole number at least 0 and at most 65535 \(got "eighty"\)/);
    expect(all).toThrow(/MAX_CONCURRENT must be a whole number at least 1.*\(got "0"\)/);
    expect(all).toThrow(/WORK_SECONDS must be a number at least 0 and at most 86400 \(got "-1"\)/);
    expect(() => readLocalSettings(withFixtureKinds({ LOG_LEVEL: 'loud' }))).toThrow(/LOG_LEVEL must be one of .* \(got "loud"\)/);
  });
});

describe('parseWorkerEnv', () => {
  const good = { MESSAGE: 'hi', CONTAINER_NAME: 'task-1', DATABASE_URI: 'sqlite:/tmp/x.db' };

  it('reads the contract and defaults WORK_SECONDS to 5', () => {
    expect(parseWorkerEnv(good)).toEqual({ message: 'hi', containerName: 'task-1', databaseUri: 'sqlite:/tmp/x.db', workSeconds: 5 });
    expect(parseWorkerEnv({ ...good, WORK_SECONDS: '0.5' }).workSeconds).toBe(0.5);
  });

  it('reports every missing or empty variable at once', () => {
    expect(() => parseWorkerEnv({ MESSAGE: '  ', DATABASE_URI: 'x' })).toThrow(
      'MESSAGE is empty; CONTAINER_NAME is not set',
    );
    expect(() => parseWorkerEnv({ ...good, WORK_SECONDS: 'soon' })).toThrow(/WORK_SECONDS must be .*"soon"/);
  });
});

describe('jobCostUsd', () => {
  it('prices the container per second from dispatch to finish for its vCPU and memory', () => {
    const job = {
      ...newPendingJob('j', 'task-j', 'm', new Date('2026-01-01T00:00:00Z')),
      dispatchedAt: '2026-01-01T00:00:01.000Z',
      finishedAt: '2026-01-01T00:00:11.200Z',
      cpu: 1,
      memoryGb: 1.5,
    };
    // 10.2 s bills as 11 s.
    expect(jobCostUsd(job, { vcpuSecondUsd: 0.0000135, gbSecondUsd: 0.0000015 })).toBeCloseTo(11 * (0.0000135 + 1.5 * 0.0000015), 12);
  });

  it('runs the meter for a running job and is null before dispatch', () => {
    const base = newPendingJob('j', 'task-j', 'm', new Date('2026-01-01T00:00:00Z'));
    expect(jobCostUsd(base, { vcpuSecondUsd: 1, gbSecondUsd: 0 })).toBeNull();
    const running = { ...base, dispatchedAt: '2026-01-01T00:00:00.000Z', cpu: 2, memoryGb: 0 };
    expect(jobCostUsd(running, { vcpuSecondUsd: 1, gbSecondUsd: 0 }, new Date('2026-01-01T00:00:30Z'))).toBe(60);
  });
});
