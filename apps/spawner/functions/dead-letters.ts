import { app, type InvocationContext } from '@azure/functions';
import { settleDeadLetter, type DeadLetterOutcome } from '../dead-letters.js';
import type { SpawnerDeps } from '../spawner-deps.js';
import { spawnerDeps } from './deps.js';

/**
 * Service Bus trigger on the work queue's dead letter queue (`<queue>/$deadletterqueue`,
 * https://learn.microsoft.com/azure/service-bus-messaging/service-bus-dead-letter-queues):
 * each dead letter is handled when it arrives, with no timer. Work fails its task with the
 * reason, a watch restarts its chain, anything else is recorded as poison. Service Bus keeps
 * the reason in the message's application properties `DeadLetterReason` and
 * `DeadLetterErrorDescription`.
 */
export async function onDeadLetter(message: unknown, context: InvocationContext, deps: SpawnerDeps): Promise<DeadLetterOutcome> {
  const metadata = context.triggerMetadata ?? {};
  const properties = (metadata.applicationProperties ?? metadata.userProperties ?? {}) as Record<string, unknown>;
  const enqueuedAt = new Date(String(metadata.enqueuedTimeUtc ?? ''));
  const letter = {
    messageId: String(metadata.messageId ?? 'unknown'),
    body: message,
    deliveryCount: Number(metadata.deliveryCount ?? 0),
    enqueuedAt: Number.isNaN(enqueuedAt.getTime()) ? new Date() : enqueuedAt,
    reason: String(metadata.deadLetterReason ?? properties.DeadLetterReason ?? ''),
    description: String(metadata.deadLetterErrorDescription ?? properties.DeadLetterErrorDescription ?? ''),
  };
  const outcome = await settleDeadLetter(letter, deps);
  context.log(`dead letter ${letter.messageId} (${letter.reason}): ${outcome}`);
  return outcome;
}

app.serviceBusQueue('dead-letters', {
  connection: 'ServiceBusConnection',
  queueName: '%QUEUE_NAME%/$deadletterqueue',
  handler: async (message, context) => {
    await onDeadLetter(message, context, await spawnerDeps());
  },
});
