import { app, type InvocationContext } from '@azure/functions';
import { CreateQuotaError } from '../../core/adapters/azure/aci-runtime.js';
import { errorMessage } from '../../core/domain/errors.js';
import type { WorkMessageBody } from '../../core/domain/work-queue.port.js';
import { dispatch, parseWorkMessage, type DispatchResult } from '../dispatch.js';
import type { SpawnerDeps } from '../spawner-deps.js';
import { spawnerDeps } from './deps.js';

export type DispatchOutcome = DispatchResult | 'deferred';

/**
 * Service Bus trigger: one work message → one container group. Returning completes the
 * message; throwing abandons it (Service Bus retries, then dead-letters after
 * maxDeliveryCount and the reaper fails the job). At capacity, or at ACI's create quota, the
 * message is sent again for later and this one completed, so waiting never costs a delivery.
 */
export async function dispatchWork(message: unknown, context: InvocationContext, deps: SpawnerDeps): Promise<DispatchOutcome> {
  const work = parseWorkMessage(message);
  const deliveryCount = Number(context.triggerMetadata?.deliveryCount ?? 1);
  // Capacity is counted in the store, one query, shared by every instance. Concurrent
  // invocations may all see the same room, so the limit can be overshot by the invocations
  // in flight at once (host.json's maxConcurrentCalls per instance).
  const active = await deps.store.listActive();
  if (active.length >= deps.maxConcurrent && !active.some((job) => job.id === work.jobId)) {
    await defer(work, deps, deps.deferSeconds * 1000, context, `at capacity (${active.length}/${deps.maxConcurrent})`);
    return 'deferred';
  }
  try {
    const result = await dispatch(work, deliveryCount, deps);
    context.log(`job ${work.jobId}: ${result} (delivery ${deliveryCount})`);
    return result;
  } catch (error) {
    if (error instanceof CreateQuotaError) {
      await defer(work, deps, error.retryAfterMs, context, error.message);
      return 'deferred';
    }
    const reason = errorMessage(error);
    context.error(`job ${work.jobId}: delivery ${deliveryCount} failed: ${reason}`);
    await deps.store.noteDispatchError(work.jobId, deliveryCount, reason);
    throw error;
  }
}

async function defer(work: WorkMessageBody, deps: SpawnerDeps, delayMs: number, context: InvocationContext, why: string): Promise<void> {
  const at = new Date(Date.now() + delayMs);
  // A new messageId: the job id itself is still inside the duplicate detection window.
  await deps.queue.send({ messageId: `${work.jobId}.deferred.${Date.now()}`, body: work, scheduledAt: at });
  context.log(`job ${work.jobId}: deferred to ${at.toISOString()}: ${why}`);
}

app.serviceBusQueue('dispatch-work', {
  connection: 'ServiceBusConnection',
  queueName: '%QUEUE_NAME%',
  handler: async (message, context) => {
    await dispatchWork(message, context, await spawnerDeps());
  },
});
