import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import { tempDir } from '../helpers.js';
import { CONTRACT_QUEUE, workQueueContract } from './work-queue.contract.js';
import { peekDeadLetters, queueDepth } from '../queue-inspection.js';

function openQueue() {
  const dir = tempDir();
  const path = join(dir.path, 'queue.db');
  let offset = 0;
  const now = () => Date.now() + offset;
  let queue = new SqliteWorkQueue({ path, ...CONTRACT_QUEUE, now });
  return {
    get queue() {
      return queue;
    },
    advance: (ms: number) => {
      offset += ms;
    },
    reopen: async () => {
      await queue.close();
      queue = new SqliteWorkQueue({ path, ...CONTRACT_QUEUE, now });
      return queue;
    },
    cleanup: async () => {
      await queue.close();
      dir.remove();
    },
  };
}

workQueueContract('SqliteWorkQueue', async () => openQueue());

describe('SqliteWorkQueue administration', () => {
  it('lists dead letters without taking them and requeues one with a fresh count', async () => {
    const subject = openQueue();
    const queue = subject.queue;
    await queue.send({ messageId: 'a', body: { jobId: 'a', message: 'm' } });
    const [message] = await queue.receive(1);
    await queue.deadLetter(message!, 'Test', 'for requeue');
    expect(peekDeadLetters(queue, 10).map((d) => d.messageId)).toEqual(['a']);
    expect(peekDeadLetters(queue, 10).map((d) => d.messageId)).toEqual(['a']);
    expect(queueDepth(queue)).toEqual({ active: 0, deadLettered: 1 });
    expect(await queue.requeueDeadLetter('a')).toBe(true);
    expect(await queue.requeueDeadLetter('a')).toBe(false);
    const [again] = await queue.receive(1);
    expect(again).toMatchObject({ messageId: 'a', deliveryCount: 1 });
    await subject.cleanup();
  });
});
