import { EventEmitter } from 'node:events';
import type { ContainerEvent, ContainerStatus, StopReason } from '../domain/container-runtime.port.js';
import { waitForEvent } from './wait-for-event.js';

/** What a local runtime knows of one container. */
export interface ObservedContainer {
  name: string;
  jobId: string | null;
  startedAt: string;
  /** Null while it runs. */
  finishedAt: string | null;
  /** Null while it runs, and for a container that was lost (its end never observed). */
  exitCode: number | null;
  /** The signal that ended it, where the runtime saw one; set before `finish`. */
  signal: number | null;
  /** Why the stack stopped it, when it did: set before the stop is sent. */
  stoppedFor: StopReason | null;
}

/**
 * The containers a local runtime knows, by name, and word of each end: what the process and
 * the Docker runtimes keep alike.
 */
export class ContainerTable<T extends ObservedContainer> extends Map<string, T> {
  private readonly exits = new EventEmitter().setMaxListeners(0);
  private readonly listeners = new Set<(event: ContainerEvent) => void>();

  status(name: string): ContainerStatus | null {
    const container = this.get(name);
    return container ? statusOf(container) : null;
  }

  list(): ContainerStatus[] {
    return [...this.values()].map(statusOf);
  }

  runningCount(): number {
    let running = 0;
    for (const container of this.values()) if (!container.finishedAt) running++;
    return running;
  }

  /** Resolves when any container exits, or after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<void> {
    return waitForEvent(this.exits, 'exit', timeoutMs);
  }

  /** Records how it ended, once, and wakes whoever waits for an exit. */
  finish(container: T, exitCode: number | null, at = new Date().toISOString()): void {
    if (container.finishedAt) return;
    container.exitCode = exitCode;
    container.finishedAt = new Date(at).toISOString();
    this.exits.emit('exit', container.name);
    this.tell({ type: 'exit', name: container.name, jobId: container.jobId });
  }

  /** Its program runs: told once per container this runtime started or adopted running. */
  started(container: T): void {
    if (!container.finishedAt) this.tell({ type: 'start', name: container.name, jobId: container.jobId });
  }

  /** Its log grew. */
  output(container: T): void {
    if (!container.finishedAt) this.tell({ type: 'output', name: container.name, jobId: container.jobId });
  }

  listen(listener: (event: ContainerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Every listener hears it; one that throws is not let through to the runtime (whose own
   * bookkeeping called this), and the others still hear it.
   */
  private tell(event: ContainerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        console.error(`container event listener: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/**
 * What a local runtime answers from its table alone: a container's status, the list, how many
 * run, and a wait for the next exit. The process and the Docker runtimes extend it.
 */
export abstract class TabledRuntime<T extends ObservedContainer> {
  protected readonly containers = new ContainerTable<T>();

  async status(name: string): Promise<ContainerStatus | null> {
    return this.containers.status(name);
  }

  async list(): Promise<ContainerStatus[]> {
    return this.containers.list();
  }

  runningCount(): number {
    return this.containers.runningCount();
  }

  /** Resolves when any container exits, or after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<void> {
    return this.containers.waitForExit(timeoutMs);
  }

  onContainerEvent(listener: (event: ContainerEvent) => void): () => void {
    return this.containers.listen(listener);
  }
}

/** Its status as the port reports it: running until it finished, then succeeded only with exit code 0. */
function statusOf(container: ObservedContainer): ContainerStatus {
  const state = !container.finishedAt ? 'Running' : container.exitCode === 0 ? 'Succeeded' : 'Failed';
  return {
    name: container.name,
    jobId: container.jobId,
    state,
    exitCode: container.exitCode,
    signal: container.signal,
    stoppedFor: container.stoppedFor,
    startedAt: container.startedAt,
    finishedAt: container.finishedAt,
  };
}
