import {
  isServiceBusError,
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
  type ServiceBusSender,
} from '@azure/service-bus';
import type { TokenCredential } from '@azure/core-auth';
import { MessageLockLostError } from '../../domain/errors.js';
import type {
  DeadLetter,
  OutgoingMessage,
  ReceivedMessage,
  WorkQueue,
} from '../../domain/work-queue.port.js';

/** The parts of the SDK this adapter uses: tests hand in their own at this boundary. */
export interface ServiceBusParts {
  sender: Pick<ServiceBusSender, 'sendMessages' | 'close'>;
  receiver: Pick<
    ServiceBusReceiver,
    'receiveMessages' | 'completeMessage' | 'abandonMessage' | 'deadLetterMessage' | 'peekMessages' | 'close'
  >;
  deadLetterReceiver: Pick<ServiceBusReceiver, 'receiveMessages' | 'completeMessage' | 'abandonMessage' | 'close'>;
  close(): Promise<void>;
}

export type ServiceBusConnection =
  | { queueName: string; fullyQualifiedNamespace: string; credential: TokenCredential }
  | { queueName: string; connectionString: string };

export interface ServiceBusWorkQueueOptions {
  /** How long a receive waits for messages when none are there (a long poll). */
  receiveWaitMs?: number;
}

/**
 * The work queue on Azure Service Bus. The dashboard sends with messageId = job id, so the
 * queue's duplicate detection drops a resend inside its window (silently, so `send` cannot
 * tell and returns true). Messages are received with peek-lock; settling needs the SDK's
 * message object, kept here by lock token until it is settled.
 */
export class ServiceBusWorkQueue implements WorkQueue {
  private readonly held = new Map<string, { message: ServiceBusReceivedMessage; from: 'queue' | 'deadLetter' }>();

  constructor(
    private readonly parts: ServiceBusParts,
    private readonly options: ServiceBusWorkQueueOptions = {},
  ) {}

  /** Connects by managed identity (the namespace) or by connection string. */
  static connect(connection: ServiceBusConnection, options?: ServiceBusWorkQueueOptions): ServiceBusWorkQueue {
    const client =
      'connectionString' in connection
        ? new ServiceBusClient(connection.connectionString)
        : new ServiceBusClient(connection.fullyQualifiedNamespace, connection.credential);
    return new ServiceBusWorkQueue(
      {
        sender: client.createSender(connection.queueName),
        receiver: client.createReceiver(connection.queueName, { receiveMode: 'peekLock' }),
        deadLetterReceiver: client.createReceiver(connection.queueName, { subQueueType: 'deadLetter', receiveMode: 'peekLock' }),
        close: () => client.close(),
      },
      options,
    );
  }

  async send({ messageId, body, scheduledAt }: OutgoingMessage): Promise<boolean> {
    await this.parts.sender.sendMessages({
      messageId,
      body,
      contentType: 'application/json',
      ...(scheduledAt ? { scheduledEnqueueTimeUtc: scheduledAt } : {}),
    });
    return true;
  }

  async receive(maxMessages: number): Promise<ReceivedMessage[]> {
    if (maxMessages <= 0) return [];
    const messages = await this.parts.receiver.receiveMessages(maxMessages, { maxWaitTimeInMs: this.options.receiveWaitMs ?? 1000 });
    return messages.map((message) => this.hold(message, 'queue'));
  }

  async complete(message: ReceivedMessage): Promise<void> {
    const { message: sdkMessage, from } = this.take(message);
    const receiver = from === 'queue' ? this.parts.receiver : this.parts.deadLetterReceiver;
    await this.settle(message, () => receiver.completeMessage(sdkMessage));
  }

  async abandon(message: ReceivedMessage): Promise<void> {
    const { message: sdkMessage, from } = this.take(message);
    const receiver = from === 'queue' ? this.parts.receiver : this.parts.deadLetterReceiver;
    await this.settle(message, () => receiver.abandonMessage(sdkMessage));
  }

  async deadLetter(message: ReceivedMessage, reason: string, description: string): Promise<void> {
    const { message: sdkMessage } = this.take(message);
    await this.settle(message, () =>
      this.parts.receiver.deadLetterMessage(sdkMessage, { deadLetterReason: reason, deadLetterErrorDescription: description }),
    );
  }

  async receiveDeadLetters(maxMessages: number): Promise<DeadLetter[]> {
    const messages = await this.parts.deadLetterReceiver.receiveMessages(maxMessages, { maxWaitTimeInMs: 1000 });
    return messages.map((message) => ({
      ...this.hold(message, 'deadLetter'),
      reason: message.deadLetterReason ?? '',
      description: message.deadLetterErrorDescription ?? '',
      deadLetteredAt: message.enqueuedTimeUtc ?? new Date(),
    }));
  }

  /** Service Bus receives are long polls already: there is nothing to wait for between them. */
  async waitForMessages(): Promise<void> {}

  async ping(): Promise<void> {
    await this.parts.receiver.peekMessages(1);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.parts.sender.close(), this.parts.receiver.close(), this.parts.deadLetterReceiver.close()]);
    await this.parts.close();
  }

  private hold(message: ServiceBusReceivedMessage, from: 'queue' | 'deadLetter'): ReceivedMessage {
    const lockToken = message.lockToken ?? '';
    this.held.set(lockToken, { message, from });
    return {
      messageId: String(message.messageId ?? ''),
      body: message.body,
      deliveryCount: message.deliveryCount ?? 1,
      enqueuedAt: message.enqueuedTimeUtc ?? new Date(),
      lockToken,
    };
  }

  private take(message: ReceivedMessage): { message: ServiceBusReceivedMessage; from: 'queue' | 'deadLetter' } {
    const held = this.held.get(message.lockToken);
    if (!held) throw new MessageLockLostError(message.messageId);
    this.held.delete(message.lockToken);
    return held;
  }

  private async settle(message: ReceivedMessage, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      if (isServiceBusError(error) && (error.code === 'MessageLockLost' || error.code === 'SessionLockLost')) {
        throw new MessageLockLostError(message.messageId);
      }
      throw error;
    }
  }
}
