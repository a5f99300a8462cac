import { isTerminal, type Job } from '../core/domain/job.js';
import type { JobStore } from '../core/domain/job-store.port.js';

type WatchStore = Pick<JobStore, 'get' | 'currentRev' | 'changedSince'>;

interface Waiter {
  resolve: (job: Job) => void;
  timer: NodeJS.Timeout;
}

/** How many changed jobs one poll reads at a time, until it has caught up. */
const CHANGES_PER_READ = 200;

/**
 * One watch of the store's revision, shared by every request waiting for a task to end
 * (GET /api/jobs/:id?wait=N). While anyone waits it reads the revision once a second (one read),
 * and only when it moved, what changed since (a read per changed job). The tasks waited on are
 * kept as last read, so a second waiter on a task costs no read at all: 100 clients waiting 30 s
 * on one task cost about what one does. With no one waiting it reads nothing.
 */
export class RevisionWatch {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly latest = new Map<string, Job>();
  private readonly reading = new Map<string, Promise<Job | null>>();
  private rev: Promise<number> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly store: WatchStore,
    private readonly intervalMs = 1000,
  ) {}

  /**
   * The task once it is terminal, or as it is after `timeoutMs`; null for an unknown task. The
   * revision is taken before the task is read, so a change between the two is seen next poll.
   */
  async waitForEnd(id: string, timeoutMs: number): Promise<Job | null> {
    this.rev ??= this.store.currentRev();
    try {
      await this.rev;
    } catch (error) {
      if (this.waiters.size === 0) this.rev = null; // the next request tries again
      throw error;
    }
    const job = this.latest.get(id) ?? (await this.readOnce(id));
    if (!job || isTerminal(job.state)) return job;
    this.latest.set(id, job);
    return new Promise<Job>((resolve) => {
      const waiter: Waiter = { resolve, timer: setTimeout(() => this.release(id, waiter), timeoutMs) };
      const forTask = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, forTask.add(waiter));
      this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
    });
  }

  /** One read of a task for every request that arrives while it is under way. */
  private readOnce(id: string): Promise<Job | null> {
    let read = this.reading.get(id);
    if (!read) {
      read = this.store.get(id).finally(() => this.reading.delete(id));
      this.reading.set(id, read);
    }
    return read;
  }

  /** Answers every waiter with the task as last read (the server is closing). */
  close(): void {
    for (const [id, forTask] of this.waiters) for (const waiter of forTask) this.release(id, waiter);
  }

  private release(id: string, waiter: Waiter): void {
    clearTimeout(waiter.timer);
    const forTask = this.waiters.get(id);
    forTask?.delete(waiter);
    waiter.resolve(this.latest.get(id)!);
    if (forTask?.size === 0) {
      this.waiters.delete(id);
      this.latest.delete(id);
    }
    if (this.waiters.size === 0) this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.rev = null;
  }

  private async poll(): Promise<void> {
    if (this.polling || !this.rev) return;
    this.polling = true;
    try {
      let seen = await this.rev;
      const now = await this.store.currentRev();
      while (seen < now) {
        const changed = await this.store.changedSince(seen, CHANGES_PER_READ);
        if (changed.length === 0) break;
        for (const job of changed) this.update(job);
        seen = Math.max(seen, ...changed.map((job) => job.rev));
      }
      if (this.rev) this.rev = Promise.resolve(Math.max(seen, now));
    } catch {
      // A store fault: the next poll tries again; each waiter still ends by its own timeout.
    } finally {
      this.polling = false;
    }
  }

  private update(job: Job): void {
    const forTask = this.waiters.get(job.id);
    if (!forTask) return;
    this.latest.set(job.id, job);
    if (isTerminal(job.state)) for (const waiter of [...forTask]) this.release(job.id, waiter);
  }
}
