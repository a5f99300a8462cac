import { app, type InvocationContext } from '@azure/functions';
import { RetryLaterError } from '../../core/domain/container-runtime.port.js';
import { containerNameFor } from '../../core/domain/container-name.js';
import { errorMessage } from '../../core/domain/errors.js';
import type { WorkMessageBody } from '../../core/domain/work-queue.port.js';
import { dispatch, type DispatchResult } from '../dispatch.js';
import { recordPoison } from '../poison.js';
import { MalformedMessageError, parseQueueMessage } from '../queue-messages.js';
import type { SpawnerDeps } from '../spawner-deps.js';
import { keptOutReason } from '../start-wait.js';
import { startWatching, watchTask, type WatchOutcome } from '../watch.js';
import { spawnerDeps } from './deps.js';

export type DispatchOutcome = DispatchResult | 'deferred' | 'not-started';
export type WorkQueueOutcome = DispatchOutcome | WatchOutcome | 'poison';

/**
 * Service Bus trigger on the work queue, which carries two kinds of message: work (one
 * container group per task) and the spawner's own scheduled watches (one look at a task).
 * Returning completes the message; throwing abandons it, so Service Bus retries it and
 * dead-letters it after maxDeliveryCount (see dead-letters.ts). A message that is neither is
 * recorded as poison and completed: retrying it could never succeed.
 */
export async function onWorkQueueMessage(message: unknown, context: InvocationContext, deps: SpawnerDeps): Promise<WorkQueueOutcome> {
  let parsed;
  try {
    parsed = parseQueueMessage(message);
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
    const messageId = String(context.triggerMetadata?.messageId ?? 'unknown');
    const enqueuedAt = new Date(String(context.triggerMetadata?.enqueuedTimeUtc ?? Date.now()));
    await recordPoison({ messageId, body: message, enqueuedAt: Number.isNaN(enqueuedAt.getTime()) ? new Date() : enqueuedAt }, error.message, deps.store);
    context.warn(`message ${messageId}: ${error.message}; recorded as poison, not retried`);
    return 'poison';
  }
  if (parsed.type === 'watch') {
    const outcome = await watchTask(parsed.watch, deps);
    if (outcome === 'ended') context.warn(`job ${parsed.watch.jobId}: watch chain ended at ${parsed.watch.until}`);
    return outcome;
  }
  return dispatchWork(parsed.work, context, deps);
}

/**
 * One work message → one container group, then the task's first watch. At capacity, or at
 * ACI's create quota, the message is sent again for later and this one completed, so waiting
 * never costs a delivery.
 */
async function dispatchWork(work: WorkMessageBody, context: InvocationContext, deps: SpawnerDeps): Promise<DispatchOutcome> {
  const deliveryCount = Number(context.triggerMetadata?.deliveryCount ?? 1);
  // Capacity is counted in the store, one query, shared by every instance. Concurrent
  // invocations may all see the same room, so the limit can be overshot by the invocations
  // in flight at once (host.json's maxConcurrentCalls per instance).
  const active = await deps.store.listActive();
  if (active.length >= deps.maxConcurrent && !active.some((job) => job.id === work.jobId)) {
    await defer(work, deps, deps.deferSeconds * 1000, context, `at capacity (${active.length}/${deps.maxConcurrent})`);
    return 'deferred';
  }
  let result: DispatchResult;
  try {
    result = await dispatch(work, deps);
  } catch (error) {
    if (error instanceof RetryLaterError) return deferOrGiveUp(work, deps, error, context);
    const reason = errorMessage(error);
    context.error(`job ${work.jobId}: delivery ${deliveryCount} failed: ${reason}`);
    await deps.store.noteDispatchError(containerNameFor(work.jobId, work.attempt ?? 1), `delivery ${deliveryCount}: ${reason}`);
    throw error;
  }
  // Also for a redelivery (already-started): if the first delivery died before sending it, this
  // one does; if not, the same message id is dropped as a duplicate.
  if (result === 'started' || result === 'already-started') await startWatching(work.jobId, containerNameFor(work.jobId, work.attempt ?? 1), deps);
  context.log(`job ${work.jobId}: ${result} (delivery ${deliveryCount})`);
  return result;
}

/**
 * A start the runtime cannot take now (a quota, a transient refusal): the task waits, deferred,
 * with the reason on its record for the dashboard, until its start wait has passed; then it is
 * Failed as `not-started`, naming what kept it out. It never spends an attempt or a delivery.
 */
async function deferOrGiveUp(work: WorkMessageBody, deps: SpawnerDeps, error: RetryLaterError, context: InvocationContext): Promise<DispatchOutcome> {
  const containerName = containerNameFor(work.jobId, work.attempt ?? 1);
  const job = await deps.store.get(work.jobId);
  const kind = job ? (deps.kinds.get(job.kind) ?? deps.kinds.defaultKind) : null;
  const now = new Date();
  const gaveUp = job && kind ? keptOutReason(job, kind, error.message, now) : null;
  if (gaveUp) {
    await deps.store.markFailed(containerName, now, gaveUp);
    context.warn(`job ${work.jobId}: ${gaveUp}`);
    return 'not-started';
  }
  await deps.store.noteDispatchError(containerName, `waiting to start: ${error.message}`);
  await defer(work, deps, error.retryAfterMs, context, error.message);
  return 'deferred';
}

async function defer(work: WorkMessageBody, deps: SpawnerDeps, delayMs: number, context: InvocationContext, why: string): Promise<void> {
  const at = new Date(Date.now() + delayMs);
  // A new messageId: the job id itself is still inside the duplicate detection window.
  await deps.queue.send({ messageId: `${work.jobId}.deferred.${Date.now()}`, body: work, scheduledAt: at });
  context.log(`job ${work.jobId}: deferred to ${at.toISOString()}: ${why}`);
}

app.serviceBusQueue('work-queue', {
  connection: 'ServiceBusConnection',
  queueName: '%QUEUE_NAME%',
  handler: async (message, context) => {
    await onWorkQueueMessage(message, context, await spawnerDeps());
  },
});
