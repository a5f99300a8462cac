import { errorMessage } from '../core/domain/errors.js';
import { reap, type ReaperDeps } from './reaper.js';

/**
 * The local stack's reaper: a sweep every interval, never two at once (a loop costs nothing on
 * one machine; on Azure each task is watched by its own messages instead). The twin of
 * LocalConsumer, which drives the dispatch handler from the queue.
 */
export class ReaperLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: ReaperDeps,
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
    /** Called on each tick, before the pass: what else should look now rather than keep a timer of its own. */
    private readonly onTick: () => void = () => {},
  ) {}

  /** A first pass at once (what a restart left: adopted containers, dead letters), then one every interval. */
  start(): void {
    this.running = this.running.then(() => this.once());
    this.timer = setInterval(() => {
      this.onTick();
      this.running = this.running.then(() => this.once());
    }, this.intervalMs);
  }

  /** Waits for a pass under way, then runs a last one so finished containers are tidied. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.once();
  }

  private async once(): Promise<void> {
    try {
      await reap(this.deps);
    } catch (error) {
      this.log(`reaper: ${errorMessage(error)}`);
    }
  }
}
