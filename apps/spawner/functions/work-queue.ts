import { app, type InvocationContext } from '@azure/functions';
import { RetryLaterError, StartRefusedError } from '../../core/domain/container-runtime.port.js';
import { containerNameFor } from '../../core/domain/container-name.js';
import { deferredWorkMessage, nextDeferral } from '../../core/domain/deferral.js';
import { errorMessage } from '../../core/domain/errors.js';
import type { WorkMessageBody } from '../../core/domain/work-queue.port.js';
import { dispatch, type DispatchResult } from '../dispatch.js';
import { letterOfCopy, settleOrCopy, type DeadLetterHandling } from '../dead-letters.js';
import { putOffOrFail } from '../not-started.js';
import { recordPoison } from '../poison.js';
import { MalformedMessageError, parseQueueMessage } from '../queue-messages.js';
import type { SpawnerDeps } from '../spawner-deps.js';
import { startWatching, watchTask, type WatchOutcome } from '../watch.js';
import { spawnerDeps } from './deps.js';

export type DispatchOutcome = DispatchResult | 'deferred' | 'not-started';
export type WorkQueueOutcome = DispatchOutcome | WatchOutcome | DeadLetterHandling | 'poison';

/**
 * Service Bus trigger on the work queue, which carries three kinds of message: work (one
 * container group per task), the spawner's own scheduled watches (one look at a task), and
 * copies of dead letters that could not be settled when they came (dead-letters.ts).
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
  if (parsed.type === 'dead-letter') return settleOrCopy(letterOfCopy(parsed.copy), parsed.copy, deps, (line) => context.warn(line));
  return dispatchWork(parsed.work, context, deps);
}

/**
 * One work message → one container group, then the task's first watch. At capacity the message
 * is sent again for later and this one completed, so waiting never costs a delivery. A start
 * the platform refused (ACI's create quota, capacity, a transient ARM error, an aborted call)
 * is `not-started`: put off with backoff while the kind's start wait lasts, then Failed; one
 * that is the kind's own fails at once with ACI's message. Either way the message is
 * completed: only an error nothing classifies abandons it (and Service Bus redelivers it).
 */
async function dispatchWork(work: WorkMessageBody, context: InvocationContext, deps: SpawnerDeps): Promise<DispatchOutcome> {
  const deliveryCount = Number(context.triggerMetadata?.deliveryCount ?? 1);
  const attempt = work.attempt ?? 1;
  // Capacity is counted in the store, one query, shared by every instance. Concurrent
  // invocations may all see the same room, so the limit can be overshot by the invocations
  // in flight at once (host.json's maxConcurrentCalls per instance).
  const active = await deps.store.listActive();
  if (active.length >= deps.maxConcurrent && !active.some((job) => job.id === work.jobId)) {
    // The stack's own limit, not the platform's: no start wait is counted for it.
    const next = nextDeferral(work.deferral, false, new Date());
    const at = new Date(Date.now() + deps.deferSeconds * 1000);
    await deps.queue.send(deferredWorkMessage({ id: work.jobId, message: work.message }, attempt, next, at));
    context.log(`job ${work.jobId}: deferred to ${at.toISOString()}: at capacity (${active.length}/${deps.maxConcurrent})`);
    return 'deferred';
  }
  let result: DispatchResult;
  try {
    result = await dispatch(work, deps);
  } catch (error) {
    if (error instanceof RetryLaterError || error instanceof StartRefusedError) {
      const job = await deps.store.get(work.jobId);
      if (!job) return 'unknown-job';
      const kind = deps.kinds.get(job.kind) ?? deps.kinds.defaultKind;
      const platform = error instanceof RetryLaterError;
      const outcome = await putOffOrFail({ ...work, attempt }, kind, error.message, platform, deps, new Date(), platform ? error.retryAfterMs : 0);
      // The reason it waits (a quota, named) stays on the task for the dashboard while it is Pending.
      if (outcome === 'deferred') await deps.store.noteDispatchError(containerNameFor(work.jobId, attempt), `waiting to start: ${error.message}`);
      context.log(`job ${work.jobId}: attempt ${attempt} not started (${outcome}): ${error.message}`);
      return outcome === 'deferred' ? 'deferred' : 'not-started';
    }
    const reason = errorMessage(error);
    context.error(`job ${work.jobId}: delivery ${deliveryCount} failed: ${reason}`);
    await deps.store.noteDispatchError(containerNameFor(work.jobId, attempt), `delivery ${deliveryCount}: ${reason}`);
    throw error;
  }
  // Also for a redelivery (already-started): if the first delivery died before sending it, this
  // one does; if not, the same message id is dropped as a duplicate.
  if (result === 'started' || result === 'already-started') await startWatching(work.jobId, containerNameFor(work.jobId, attempt), deps, new Date(), work.deferral);
  context.log(`job ${work.jobId}: ${result} (delivery ${deliveryCount})`);
  return result;
}

app.serviceBusQueue('work-queue', {
  connection: 'ServiceBusConnection',
  queueName: '%QUEUE_NAME%',
  handler: async (message, context) => {
    await onWorkQueueMessage(message, context, await spawnerDeps());
  },
});
