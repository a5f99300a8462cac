import type { JobState } from '../apps/core/domain/job.js';
import type { JobStore } from '../apps/core/domain/job-store.port.js';
import { fromBuild } from './build.js';

/** What a seeded history holds, so the store's own counts and totals can be checked against it. */
export interface SeededHistory {
  counts: Record<JobState, number>;
  vcpuSeconds: number;
  gbSeconds: number;
}

export function emptyHistory(): SeededHistory {
  return { counts: { Pending: 0, InProgress: 0, Done: 0, Failed: 0 }, vcpuSeconds: 0, gbSeconds: 0 };
}

const SPACING_MS = 10;
const CPU = 1;
const MEMORY_GB = 1.5;

/**
 * Grows a store to `to` finished tasks (numbered from `from`), written through the store's own
 * API as the system writes them: dispatched, started, then Done (most), Failed, or retried once
 * after a lost first attempt. A few stay Pending, never queued: nothing will run them. Their
 * times lie in the past, a task every 10 ms, older than any task added later.
 */
export async function seedHistory(store: JobStore, from: number, to: number, history: SeededHistory): Promise<void> {
  const { jobIdFrom } = await fromBuild<typeof import('../apps/core/domain/job-id.js')>('apps/core/domain/job-id.js');
  const { containerNameFor } = await fromBuild<typeof import('../apps/core/domain/container-name.js')>('apps/core/domain/container-name.js');
  const { newPendingJob } = await fromBuild<typeof import('../apps/core/domain/job.js')>('apps/core/domain/job.js');
  const base = Date.now() - 86_400_000 - to * SPACING_MS;
  const resources = { cpu: CPU, memoryGb: MEMORY_GB };
  const bill = (seconds: number) => {
    history.vcpuSeconds += seconds * CPU;
    history.gbSeconds += seconds * MEMORY_GB;
  };
  for (let i = from; i < to; i++) {
    const t = base + i * SPACING_MS;
    const at = (ms: number) => new Date(t + ms);
    const id = jobIdFrom(at(0), `bench-${i}`);
    let name = containerNameFor(id);
    await store.insert(newPendingJob(id, name, `seeded task ${i}`, at(0)));
    if (i % 500 === 7) {
      history.counts.Pending++;
      continue;
    }
    await store.markDispatched(name, 1, at(100), resources);
    await store.markStarted(name, at(600));
    if (i % 25 === 3) {
      // The first attempt's container was lost after 2.9 s: billed 3 s, then a second attempt.
      const ended = { n: 1, containerName: name, dispatchedAt: at(100).toISOString(), startedAt: at(600).toISOString(), finishedAt: at(3000).toISOString(), cpu: CPU, memoryGb: MEMORY_GB, reason: 'lost' };
      name = containerNameFor(id, 2);
      await store.beginRetry(ended.containerName, { ended, containerName: name });
      bill(3);
      await store.markDispatched(name, 2, at(3100), resources);
      await store.markStarted(name, at(3600));
    }
    if (i % 10 === 5) {
      await store.markFailed(name, at(7000), 'exit code 1');
      history.counts.Failed++;
    } else {
      await store.reportProgress(name, 0.5);
      await store.markDone(name, at(8000), 'ok');
      history.counts.Done++;
    }
    bill(i % 25 === 3 ? 5 : i % 10 === 5 ? 7 : 8);
  }
}
