import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { describe, expect, it } from 'vitest';
import { ServiceBusWorkQueue, type ServiceBusParts } from '../../apps/core/adapters/azure/service-bus-work-queue.js';

// No Service Bus emulator runs here: the adapter is tested at the SDK's boundary, its sender and
// receiver objects, and Service Bus's own semantics stay proven by the SQLite queue's contract.

type Call = [string, ...unknown[]];

function sdkMessage(overrides: Partial<ServiceBusReceivedMessage> = {}): ServiceBusReceivedMessage {
  return {
    messageId: 'job-1',
    body: { jobId: 'job-1', message: 'hi' },
    deliveryCount: 2,
    enqueuedTimeUtc: new Date('2026-01-01T00:00:00Z'),
    lockToken: `lock-${Math.random()}`,
    ...overrides,
  } as ServiceBusReceivedMessage;
}

function fakeParts(queued: ServiceBusReceivedMessage[] = [], deadLetters: ServiceBusReceivedMessage[] = []) {
  const calls: Call[] = [];
  const receiverFor = (name: string, messages: ServiceBusReceivedMessage[]) => ({
    receiveMessages: async (max: number, options?: { maxWaitTimeInMs?: number }) => {
      calls.push([`${name}.receiveMessages`, max, options?.maxWaitTimeInMs]);
      return messages.splice(0, max);
    },
    completeMessage: async (m: ServiceBusReceivedMessage) => void calls.push([`${name}.completeMessage`, m.lockToken]),
    abandonMessage: async (m: ServiceBusReceivedMessage) => void calls.push([`${name}.abandonMessage`, m.lockToken]),
    deadLetterMessage: async (m: ServiceBusReceivedMessage, options?: unknown) => void calls.push([`${name}.deadLetterMessage`, m.lockToken, options]),
    peekMessages: async (max: number) => {
      calls.push([`${name}.peekMessages`, max]);
      return [];
    },
    close: async () => void calls.push([`${name}.close`]),
  });
  const parts = {
    sender: {
      sendMessages: async (message: unknown) => void calls.push(['sender.sendMessages', message]),
      close: async () => void calls.push(['sender.close']),
    },
    receiver: receiverFor('receiver', queued),
    deadLetterReceiver: receiverFor('deadLetterReceiver', deadLetters),
    close: async () => void calls.push(['client.close']),
  } as unknown as ServiceBusParts;
  return { parts, calls };
}

describe('ServiceBusWorkQueue at the SDK boundary', () => {
  it('sends JSON with the job id as messageId, so Service Bus duplicate detection applies', async () => {
    const { parts, calls } = fakeParts();
    const queue = new ServiceBusWorkQueue(parts);
    await queue.send({ messageId: 'job-1', body: { jobId: 'job-1', message: 'hi' } });
    const later = new Date('2026-01-01T00:01:00Z');
    await queue.send({ messageId: 'job-1.defer', body: { jobId: 'job-1', message: 'hi' }, scheduledAt: later });
    expect(calls).toEqual([
      ['sender.sendMessages', { messageId: 'job-1', body: { jobId: 'job-1', message: 'hi' }, contentType: 'application/json' }],
      ['sender.sendMessages', { messageId: 'job-1.defer', body: { jobId: 'job-1', message: 'hi' }, contentType: 'application/json', scheduledEnqueueTimeUtc: later }],
    ]);
  });

  it('receives with peek-lock and settles each message through the receiver that holds it', async () => {
    const a = sdkMessage({ messageId: 'a', lockToken: 'lock-a' });
    const b = sdkMessage({ messageId: 'b', lockToken: 'lock-b' });
    const c = sdkMessage({ messageId: 'c', lockToken: 'lock-c' });
    const { parts, calls } = fakeParts([a, b, c]);
    const queue = new ServiceBusWorkQueue(parts, { receiveWaitMs: 250 });
    const [ra, rb, rc] = await queue.receive(3);
    expect(ra).toEqual({ messageId: 'a', body: a.body, deliveryCount: 2, enqueuedAt: a.enqueuedTimeUtc, lockToken: 'lock-a' });
    await queue.complete(ra!);
    await queue.abandon(rb!);
    await queue.deadLetter(rc!, 'MalformedMessage', 'not an object');
    expect(calls).toEqual([
      ['receiver.receiveMessages', 3, 250],
      ['receiver.completeMessage', 'lock-a'],
      ['receiver.abandonMessage', 'lock-b'],
      ['receiver.deadLetterMessage', 'lock-c', { deadLetterReason: 'MalformedMessage', deadLetterErrorDescription: 'not an object' }],
    ]);
    // Settled once: a second settlement has no lock to use.
    await expect(queue.complete(ra!)).rejects.toMatchObject({ code: 'MESSAGE_LOCK_LOST' });
  });

  it('maps Service Bus’s MessageLockLost to the port’s error', async () => {
    const { parts } = fakeParts([sdkMessage({ lockToken: 'lock-x' })]);
    const { ServiceBusError } = await import('@azure/service-bus');
    parts.receiver.completeMessage = async () => {
      throw new ServiceBusError('lock expired', 'MessageLockLost');
    };
    const queue = new ServiceBusWorkQueue(parts);
    const [message] = await queue.receive(1);
    await expect(queue.complete(message!)).rejects.toMatchObject({ code: 'MESSAGE_LOCK_LOST' });
  });

  it('reads dead letters with their reason and removes them through the dead letter receiver', async () => {
    const letter = sdkMessage({
      messageId: 'job-9',
      lockToken: 'lock-dl',
      deliveryCount: 10,
      deadLetterReason: 'MaxDeliveryCountExceeded',
      deadLetterErrorDescription: 'Message could not be consumed after 10 delivery attempts.',
    });
    const { parts, calls } = fakeParts([], [letter]);
    const queue = new ServiceBusWorkQueue(parts);
    const [dead] = await queue.receiveDeadLetters(5);
    expect(dead).toMatchObject({
      messageId: 'job-9',
      deliveryCount: 10,
      reason: 'MaxDeliveryCountExceeded',
      description: 'Message could not be consumed after 10 delivery attempts.',
    });
    await queue.complete(dead!);
    expect(calls.at(-1)).toEqual(['deadLetterReceiver.completeMessage', 'lock-dl']);
  });

  it('checks health with a peek and closes every link', async () => {
    const { parts, calls } = fakeParts();
    const queue = new ServiceBusWorkQueue(parts);
    await queue.ping();
    await queue.close();
    expect(calls.map((c) => c[0])).toEqual(['receiver.peekMessages', 'sender.close', 'receiver.close', 'deadLetterReceiver.close', 'client.close']);
  });
});
