import type { ContainerEvent, ContainerEvents, ContainerRuntime, FollowableLogs } from '../core/domain/container-runtime.port.js';
import { progressFromLogs } from '../core/domain/container-output.js';
import { errorMessage } from '../core/domain/errors.js';
import { isTerminal } from '../core/domain/job.js';
import type { DeadLetterEvents, WorkQueue } from '../core/domain/work-queue.port.js';
import { settleDeadLetters, type ReaperDeps } from './reaper.js';
import { deadlineOf, kindOf, settleTask } from './settle-task.js';

export interface EventSettlerDeps extends ReaperDeps {
  runtime: ContainerRuntime & ContainerEvents & Partial<FollowableLogs>;
  queue: WorkQueue & Partial<DeadLetterEvents>;
  /** The first wait before a failed handling (a disk error, a busy store) is tried again; it doubles each time. */
  retryMs?: number;
}

/** How often a failed handling is tried again before it is left to the sweep. */
const MAX_TRIES = 6;
const DEFAULT_RETRY_MS = 500;
/** A partial line kept between reads of a log: a progress line is short, anything longer is no progress line. */
const MAX_PARTIAL_LINE = 4096;
const DEAD_LETTERS = '\0dead-letters';

/** A running container of a kind followed from outside: where its log was read up to. */
interface Followed {
  offset: number;
  partial: string;
  progress: number | null;
  /** An output event came while a read was queued or under way: read once more after it. */
  again: boolean;
  queued: boolean;
}

/**
 * The local stack's events, each settling what it concerns at once (the reaper's sweep stays
 * as a rare safety net): a container's start and exit get one look at that container
 * (settleTask, as the sweep and Azure's watch do); a timer per running container looks again
 * at its kind's timeout; a followed kind's log is read on from where it was left as it grows,
 * its `progress` lines moving the bar; the queue's dead letters are recorded as they are made.
 *
 * The handlings of one container run one after another. None lets an error out: a failed one is
 * logged and tried again (a disk error, a busy store), up to MAX_TRIES times, after which the
 * sweep finds what is left.
 */
export class EventSettler {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private readonly followed = new Map<string, Followed>();
  private readonly unsubscribe: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly deps: EventSettlerDeps) {}

  /** Listens from now on, and looks once at every container already running (adopted after a restart). */
  async start(): Promise<void> {
    this.unsubscribe.push(this.deps.runtime.onContainerEvent((event) => this.onEvent(event)));
    if (this.deps.queue.onDeadLetter) this.unsubscribe.push(this.deps.queue.onDeadLetter(() => this.run(DEAD_LETTERS, () => this.deadLetters())));
    for (const container of await this.deps.runtime.list()) {
      if (container.state === 'Running') this.run(container.name, () => this.look(container.name, container.jobId));
    }
    this.run(DEAD_LETTERS, () => this.deadLetters());
  }

  /** Stops listening and its timers, and waits for the handlings under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const stop of this.unsubscribe.splice(0)) stop();
    for (const timer of [...this.timers.values(), ...this.retries]) clearTimeout(timer);
    this.timers.clear();
    this.retries.clear();
    while (this.chains.size > 0) await Promise.all(this.chains.values());
  }

  private onEvent(event: ContainerEvent): void {
    if (event.type === 'output') return this.onOutput(event.name);
    if (event.type === 'exit') this.disarm(event.name);
    this.run(event.name, () => this.look(event.name, event.jobId));
  }

  /** Queues `work` behind whatever that container (or the dead letters) has under way. */
  private run(key: string, work: () => Promise<void>, tries = 1): void {
    if (this.stopped) return;
    const before = this.chains.get(key) ?? Promise.resolve();
    const chain = before.then(async () => {
      try {
        await work();
      } catch (error) {
        this.retry(key, work, tries, error);
      }
    });
    this.chains.set(key, chain);
    void chain.then(() => {
      if (this.chains.get(key) === chain) this.chains.delete(key);
    });
  }

  private retry(key: string, work: () => Promise<void>, tries: number, error: unknown): void {
    const what = key === DEAD_LETTERS ? 'dead letters' : `container ${key}`;
    if (tries >= MAX_TRIES || this.stopped) {
      this.deps.log(`spawner: ${what}: ${errorMessage(error)}; left to the next sweep`);
      return;
    }
    const wait = (this.deps.retryMs ?? DEFAULT_RETRY_MS) * 2 ** (tries - 1);
    this.deps.log(`spawner: ${what}: ${errorMessage(error)}; trying again in ${wait} ms`);
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      this.run(key, work, tries + 1);
    }, wait);
    this.retries.add(timer);
  }

  /** One look at the container; while it runs, its timeout timer is set and its log followed. */
  private async look(name: string, jobId: string | null): Promise<void> {
    const found = await this.deps.runtime.status(name);
    const job = jobId ? await this.deps.store.get(jobId) : null;
    const settlement = await settleTask(job, name, found, this.deps, new Date());
    if (settlement.outcome !== 'running' || !found || !job) {
      this.disarm(name);
      this.followed.delete(name);
      return;
    }
    // Read again: the look may have just marked it started, which moves its deadline.
    const now = (await this.deps.store.get(job.id)) ?? job;
    if (now.containerName !== name || isTerminal(now.state)) return this.disarm(name);
    const kind = kindOf(now, this.deps);
    this.arm(name, jobId, deadlineOf(now, kind, found.startedAt) ?? Date.now() + kind.timeoutSeconds * 1000);
    if (!kind.store && this.deps.runtime.logsFrom && !this.followed.has(name)) {
      this.followed.set(name, { offset: 0, partial: '', progress: now.progress ?? null, again: false, queued: false });
      // What it printed before the follow began is read now, not at its next line.
      this.onOutput(name);
    }
  }

  /**
   * Looks again at the deadline. A look that finds the task not yet overdue (the built-in worker
   * wrote a later start of its own) sets the timer again for the later deadline.
   */
  private arm(name: string, jobId: string | null, deadline: number): void {
    this.disarm(name);
    if (this.stopped) return;
    // A little after the deadline: the look compares with the same clock and must find it passed.
    const timer = setTimeout(() => {
      this.timers.delete(name);
      this.run(name, () => this.look(name, jobId));
    }, Math.max(0, deadline - Date.now()) + 20);
    this.timers.set(name, timer);
  }

  private disarm(name: string): void {
    const timer = this.timers.get(name);
    if (timer) clearTimeout(timer);
    this.timers.delete(name);
  }

  private onOutput(name: string): void {
    const followed = this.followed.get(name);
    if (!followed) return;
    if (followed.queued) {
      followed.again = true;
      return;
    }
    followed.queued = true;
    this.run(name, () => this.readOn(name, followed));
  }

  /** Reads the log on from where it was left, and reports the last new progress line. */
  private async readOn(name: string, followed: Followed): Promise<void> {
    try {
      do {
        followed.again = false;
        const chunk = await this.deps.runtime.logsFrom!(name, followed.offset);
        if (!chunk) return;
        // A log that restarted shorter (a new file of the same name) is read from its start.
        if (chunk.next < followed.offset) followed.partial = '';
        const lines = (followed.partial + chunk.text).split('\n');
        const last = lines.pop() ?? '';
        followed.partial = last.length > MAX_PARTIAL_LINE ? '' : last;
        followed.offset = chunk.next;
        const progress = progressFromLogs(lines.join('\n'));
        if (progress !== null && progress !== followed.progress) {
          await this.deps.store.reportProgress(name, progress);
          followed.progress = progress;
        }
      } while (followed.again && this.followed.get(name) === followed);
    } finally {
      followed.queued = false;
    }
  }

  private async deadLetters(): Promise<void> {
    await settleDeadLetters(this.deps);
  }
}
