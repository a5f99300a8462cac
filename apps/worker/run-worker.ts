import { AppError, errorMessage } from '../core/domain/errors.js';
import { isTerminal } from '../core/domain/job.js';
import type { WorkerStore } from '../core/domain/job-store.port.js';

/**
 * No job has this container as its current one: a mistaken CONTAINER_NAME, or an earlier
 * attempt's container still running after its task moved on (it must write nothing).
 */
class UnknownContainerError extends AppError {
  constructor(containerName: string) {
    super('UNKNOWN_CONTAINER', `no job has the container name ${containerName} as its current attempt`);
  }
}

export type Task = (message: string, onProgress: (fraction: number) => Promise<void>) => Promise<string>;

export interface WorkerRun {
  containerName: string;
  message: string;
  store: WorkerStore;
  task: Task;
  log: (line: string) => void;
  /** When the store was open, in ms after the process started (performance.now()). */
  storeOpenMs?: number;
}

export type WorkerOutcome = 'Done' | 'Failed' | 'AlreadyFinished';

/** InProgress, the work, then Done with its output, or Failed with the error. */
export async function runWorker({ containerName, message, store, task, log, storeOpenMs }: WorkerRun): Promise<WorkerOutcome> {
  const job = await store.getByContainerName(containerName);
  if (!job) throw new UnknownContainerError(containerName);
  if (isTerminal(job.state)) {
    log(`job ${job.id} is already ${job.state}; nothing to do`);
    return 'AlreadyFinished';
  }
  await store.markStarted(containerName, new Date());
  // How long the container took to start its task, and how much of that opening the store took.
  const start = storeOpenMs === undefined ? '' : ` (${performance.now().toFixed(1)} ms after the process started; store open at ${storeOpenMs.toFixed(1)} ms)`;
  log(`job ${job.id}: InProgress${start}`);
  try {
    const output = await task(message, async (fraction) => {
      await store.reportProgress(containerName, Math.round(fraction * 1000) / 1000);
      log(`progress ${Math.round(fraction * 100)}%`);
    });
    await store.markDone(containerName, new Date(), output);
    log(`job ${job.id}: Done: ${output}`);
    return 'Done';
  } catch (error) {
    const reason = errorMessage(error);
    await store.markFailed(containerName, new Date(), reason);
    log(`job ${job.id}: Failed: ${reason}`);
    return 'Failed';
  }
}
