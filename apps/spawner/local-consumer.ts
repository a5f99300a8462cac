import { containerNameFor } from '../core/domain/container-name.js';
import { errorMessage } from '../core/domain/errors.js';
import type { ReceivedMessage, WorkQueue } from '../core/domain/work-queue.port.js';
import { dispatch, type DispatchDeps } from './dispatch.js';
import { MalformedMessageError, parseWorkMessage } from './queue-messages.js';

const ERROR_RETRY_MS = 1000;

export interface LocalConsumerOptions extends DispatchDeps {
  queue: WorkQueue;
  /** Containers running at once, at most. At the limit no message is taken off the queue. */
  maxConcurrent: number;
  /** How many containers are running now. */
  running: () => number;
  /** Resolves when a container may have exited (or after the timeout). */
  waitForExit: (timeoutMs: number) => Promise<void>;
  /** Fallback poll for messages sent by another process. */
  pollMs: number;
  log: (line: string) => void;
}

/**
 * Drives the dispatch handler from the local queue, as the Service Bus trigger does on Azure:
 * complete on success, abandon on error (so the delivery counts towards the dead letter), and
 * dead-letter at once what is not a work message. It takes only as many messages as there is
 * room for: lack of capacity never costs a task a delivery.
 */
export class LocalConsumer {
  private stopping = false;
  private loop: Promise<void> | null = null;
  /** Whoever waits now (for a message or an exit): a nudge or the stop ends the wait at once. */
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: LocalConsumerOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Looks at the queue now, in place of its next fallback poll: the sweep calls it on its tick,
   * so that one timer wakes an idle stack rather than two.
   */
  nudge(): void {
    for (const wake of this.waiters) wake();
  }

  /** Takes no more messages; resolves when the loop has settled what it held. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.nudge();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { queue, maxConcurrent, running, waitForExit, pollMs, log } = this.options;
    while (!this.stopping) {
      try {
        const room = maxConcurrent - running();
        if (room <= 0) {
          await this.interruptible(waitForExit(pollMs));
          continue;
        }
        const messages = await queue.receive(room);
        if (messages.length === 0) {
          await this.interruptible(queue.waitForMessages(pollMs));
          continue;
        }
        await Promise.all(messages.map((message) => this.handle(message)));
      } catch (error) {
        if (this.stopping) break;
        log(`spawner: ${errorMessage(error)}`);
        // A fault (a busy or full disk) is tried again soon, whatever the idle poll.
        await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, ERROR_RETRY_MS)));
      }
    }
  }

  /**
   * Waits for `wait`, or until a nudge or the stop. A promise of its own per wait: a promise
   * kept for the loop's whole life would gather a reaction at every wait.
   */
  private async interruptible(wait: Promise<void>): Promise<void> {
    let wake = () => {};
    const woken = new Promise<void>((resolve) => (wake = resolve));
    this.waiters.add(wake);
    try {
      await Promise.race([wait, woken]);
    } finally {
      this.waiters.delete(wake);
    }
  }

  private async handle(message: ReceivedMessage): Promise<void> {
    const { queue, store, log } = this.options;
    let work;
    try {
      work = parseWorkMessage(message.body);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      log(`spawner: dead-lettering ${message.messageId}: ${error.message}`);
      await queue.deadLetter(message, 'MalformedMessage', error.message);
      return;
    }
    try {
      const result = await dispatch(work, this.options);
      if (result === 'unknown-job') log(`spawner: no job ${work.jobId} for message ${message.messageId}; dropped`);
      await queue.complete(message);
    } catch (error) {
      const reason = errorMessage(error);
      log(`spawner: job ${work.jobId} delivery ${message.deliveryCount} failed: ${reason}`);
      await store.noteDispatchError(containerNameFor(work.jobId, work.attempt ?? 1), `delivery ${message.deliveryCount}: ${reason}`);
      await queue.abandon(message);
    }
  }
}

