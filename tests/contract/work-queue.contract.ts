import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkQueue } from '../../apps/core/domain/work-queue.port.js';

export interface QueueUnderTest {
  queue: WorkQueue;
  /** Moves the queue's clock forward. */
  advance: (ms: number) => void;
  /** Closes this queue and opens the same one again (a process restart). */
  reopen: () => Promise<WorkQueue>;
  cleanup: () => Promise<void>;
}

/** The settings every adapter under this contract is opened with. */
export const CONTRACT_QUEUE = { lockDurationMs: 30_000, maxDeliveryCount: 3, duplicateDetectionWindowMs: 600_000 };

const body = (jobId: string) => ({ jobId, message: `work ${jobId}` });

/** Service Bus semantics every WorkQueue adapter must have. */
export function workQueueContract(name: string, open: () => Promise<QueueUnderTest>): void {
  describe(`WorkQueue contract: ${name}`, () => {
    let subject: QueueUnderTest;
    let queue: WorkQueue;
    beforeEach(async () => {
      subject = await open();
      queue = subject.queue;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('delivers what was sent, in order, with a delivery count', async () => {
      await queue.send({ messageId: 'a', body: body('a') });
      await queue.send({ messageId: 'b', body: body('b') });
      const received = await queue.receive(10);
      expect(received.map((m) => [m.messageId, m.body, m.deliveryCount])).toEqual([
        ['a', body('a'), 1],
        ['b', body('b'), 1],
      ]);
    });

    it('hides a locked message from other receivers until it is settled', async () => {
      await queue.send({ messageId: 'a', body: body('a') });
      const [first] = await queue.receive(1);
      expect(await queue.receive(1)).toEqual([]);
      await queue.complete(first!);
      subject.advance(CONTRACT_QUEUE.lockDurationMs * 2);
      expect(await queue.receive(1)).toEqual([]);
    });

    it('delivers again when a lock expires, counting the delivery', async () => {
      await queue.send({ messageId: 'a', body: body('a') });
      const [first] = await queue.receive(1);
      subject.advance(CONTRACT_QUEUE.lockDurationMs + 1);
      const [second] = await queue.receive(1);
      expect(second).toMatchObject({ messageId: 'a', deliveryCount: 2 });
      // The first receiver's lock is gone: it can no longer settle the message.
      await expect(queue.complete(first!)).rejects.toMatchObject({ code: 'MESSAGE_LOCK_LOST' });
      await queue.complete(second!);
    });

    it('counts an abandon as a delivery and delivers again at once', async () => {
      await queue.send({ messageId: 'a', body: body('a') });
      const [first] = await queue.receive(1);
      await queue.abandon(first!);
      const [second] = await queue.receive(1);
      expect(second).toMatchObject({ messageId: 'a', deliveryCount: 2 });
    });

    it('dead-letters after maxDeliveryCount deliveries, with a reason', async () => {
      await queue.send({ messageId: 'a', body: body('a') });
      for (let i = 1; i <= CONTRACT_QUEUE.maxDeliveryCount; i++) {
        const [message] = await queue.receive(1);
        expect(message?.deliveryCount).toBe(i);
        await queue.abandon(message!);
      }
      expect(await queue.receive(1)).toEqual([]);
      const [letter] = await queue.receiveDeadLetters(10);
      expect(letter).toMatchObject({
        messageId: 'a',
        body: body('a'),
        deliveryCount: CONTRACT_QUEUE.maxDeliveryCount,
        reason: 'MaxDeliveryCountExceeded',
      });
      expect(letter!.description).toMatch(/3 times/);
    });

    it('dead-letters when the last allowed lock expires, too', async () => {
      await queue.send({ messageId: 'a', body: body('a') });
      for (let i = 1; i <= CONTRACT_QUEUE.maxDeliveryCount; i++) {
        expect(await queue.receive(1)).toHaveLength(1);
        subject.advance(CONTRACT_QUEUE.lockDurationMs + 1);
      }
      expect(await queue.receive(1)).toEqual([]);
      expect(await queue.receiveDeadLetters(10)).toHaveLength(1);
    });

    it('dead-letters on request with the reason given, and a completed dead letter is gone', async () => {
      await queue.send({ messageId: 'a', body: 'not a work message' as never });
      const [message] = await queue.receive(1);
      await queue.deadLetter(message!, 'MalformedMessage', 'not an object');
      const [letter] = await queue.receiveDeadLetters(10);
      expect(letter).toMatchObject({ reason: 'MalformedMessage', description: 'not an object' });
      // Locked by this receiver: not handed to another until the lock expires.
      expect(await queue.receiveDeadLetters(10)).toEqual([]);
      await queue.complete(letter!);
      subject.advance(CONTRACT_QUEUE.lockDurationMs + 1);
      expect(await queue.receiveDeadLetters(10)).toEqual([]);
    });

    it('drops a resend of the same messageId inside the duplicate window', async () => {
      expect(await queue.send({ messageId: 'a', body: body('a') })).toBe(true);
      expect(await queue.send({ messageId: 'a', body: body('a') })).toBe(false);
      const [message] = await queue.receive(10);
      await queue.complete(message!);
      // Still inside the window after completion: Service Bus remembers the id, not the message.
      expect(await queue.send({ messageId: 'a', body: body('a') })).toBe(false);
      subject.advance(CONTRACT_QUEUE.duplicateDetectionWindowMs + 1);
      expect(await queue.send({ messageId: 'a', body: body('a') })).toBe(true);
      expect(await queue.receive(10)).toHaveLength(1);
    });

    it('holds a scheduled message until its time', async () => {
      await queue.send({ messageId: 'later', body: body('later'), scheduledAt: new Date(Date.now() + 60_000) });
      expect(await queue.receive(1)).toEqual([]);
      subject.advance(60_001);
      expect(await queue.receive(1)).toHaveLength(1);
    });

    it('keeps messages, locks and dead letters across a restart', async () => {
      await queue.send({ messageId: 'waiting', body: body('waiting') });
      await queue.send({ messageId: 'locked', body: body('locked') });
      await queue.send({ messageId: 'dead', body: body('dead') });
      const [waiting, locked, dead] = await queue.receive(3);
      await queue.abandon(waiting!);
      await queue.deadLetter(dead!, 'Test', 'dead before the restart');
      void locked;
      queue = await subject.reopen();
      expect((await queue.receive(10)).map((m) => m.messageId)).toEqual(['waiting']);
      subject.advance(CONTRACT_QUEUE.lockDurationMs + 1);
      expect((await queue.receive(10)).map((m) => [m.messageId, m.deliveryCount])).toEqual([
        ['waiting', 3],
        ['locked', 2],
      ]);
      expect((await queue.receiveDeadLetters(10)).map((m) => m.messageId)).toEqual(['dead']);
      expect(await queue.send({ messageId: 'waiting', body: body('waiting') })).toBe(false);
    });

    it('wakes a waiting receiver as soon as a message is sent', async () => {
      const started = Date.now();
      const waited = queue.waitForMessages(10_000);
      setTimeout(() => void queue.send({ messageId: 'a', body: body('a') }), 20);
      await waited;
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await queue.receive(1)).toHaveLength(1);
    });
  });
}
