import { app, type InvocationContext } from '@azure/functions';
import { settleOrCopy, type DeadLetterHandling, type DeadLetterInfo } from '../dead-letters.js';
import type { SpawnerDeps } from '../spawner-deps.js';
import { spawnerDeps } from './deps.js';

/**
 * Service Bus trigger on the work queue's dead letter queue (`<queue>/$deadletterqueue`,
 * https://learn.microsoft.com/azure/service-bus-messaging/service-bus-dead-letter-queues):
 * each dead letter is handled when it arrives, with no timer. Work fails its task with the
 * reason, a watch restarts its chain, anything else is recorded as poison. A letter that
 * cannot be settled now (the store is down) is copied for later and completed (settleOrCopy).
 *
 * Where the reason is: Service Bus keeps it in the message's application properties
 * `DeadLetterReason` and `DeadLetterErrorDescription`; the host hands them over as trigger
 * metadata `ApplicationProperties`, and `@azure/functions` 4.x lower-cases the first letter of
 * every key at every depth (its `fromRpcTriggerMetadata` / `toCamelCaseValue`), so they arrive
 * as `applicationProperties.deadLetterReason`. Every other plausible form is read too.
 */
export async function onDeadLetter(message: unknown, context: InvocationContext, deps: SpawnerDeps, now = new Date()): Promise<DeadLetterHandling> {
  const letter = deadLetterFrom(message, context.triggerMetadata ?? {}, now);
  const outcome = await settleOrCopy(letter, null, deps, (line) => context.warn(line), now);
  context.log(`dead letter ${letter.messageId} (${letter.reason}): ${outcome}`);
  return outcome;
}

/** The value of `key` in an object, whatever the case of the key's first letter. */
function field(object: unknown, key: string): unknown {
  if (typeof object !== 'object' || object === null) return undefined;
  const record = object as Record<string, unknown>;
  return record[key] ?? record[key.charAt(0).toUpperCase() + key.slice(1)];
}

function text(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

/** A dead letter as the trigger delivers it: the message, and the trigger's metadata. */
export function deadLetterFrom(message: unknown, metadata: Record<string, unknown>, now: Date): DeadLetterInfo {
  const properties = field(metadata, 'applicationProperties') ?? field(metadata, 'userProperties') ?? {};
  const enqueuedAt = new Date(text(field(metadata, 'enqueuedTimeUtc')));
  return {
    messageId: text(field(metadata, 'messageId')) || 'unknown',
    body: message,
    deliveryCount: Number(field(metadata, 'deliveryCount') ?? 0),
    enqueuedAt: Number.isNaN(enqueuedAt.getTime()) ? now : enqueuedAt,
    reason: text(field(properties, 'deadLetterReason') ?? field(metadata, 'deadLetterReason')),
    description: text(field(properties, 'deadLetterErrorDescription') ?? field(metadata, 'deadLetterErrorDescription')),
  };
}

app.serviceBusQueue('dead-letters', {
  connection: 'ServiceBusConnection',
  queueName: '%QUEUE_NAME%/$deadletterqueue',
  handler: async (message, context) => {
    await onDeadLetter(message, context, await spawnerDeps());
  },
});
