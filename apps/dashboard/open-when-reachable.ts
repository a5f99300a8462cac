import { errorMessage } from '../core/domain/errors.js';
import { unavailable } from './http-errors.js';

/** Every port the dashboard opens this way: all its methods return promises, and it closes. */
export interface Closable {
  close(): Promise<void>;
}

export interface OpenWhenReachableOptions {
  /** After a failed open, calls fail at once with that reason for this long, then open again. */
  retryAfterMs?: number;
  /** Told when the part becomes reachable or fails to open (the server logs it). */
  onChange?: (change: { part: string; reachable: boolean; reason?: string }) => void;
  now?: () => number;
}

const ADAPTER = Symbol('adapter');

/**
 * A port (a store, a queue) whose adapter is opened on first use rather than at start, for the
 * App Service dashboard: App Service restarts a container that exits, so the server stays up
 * with a part it cannot reach and says so, instead of crashing in a loop. Until the adapter
 * opens, every call fails with 503 naming the part and the reason, so `/healthz` answers 503
 * and the pages say what is wrong; the next call after `retryAfterMs` tries again, and once
 * the part answers the port behaves as the adapter. Knows nothing of any technology: `open`
 * is whatever the composition root would have called at start.
 */
export function openWhenReachable<T extends Closable>(part: string, open: () => Promise<T>, options: OpenWhenReachableOptions = {}): T {
  const { retryAfterMs = 5000, onChange = () => {}, now = Date.now } = options;
  let adapter: T | null = null;
  let opening: Promise<T> | null = null;
  let failure: { reason: string; at: number } | null = null;
  let closed = false;

  const notReachable = (reason: string) => unavailable(`the ${part} cannot be reached: ${reason}`);

  function current(): Promise<T> {
    if (adapter) return Promise.resolve(adapter);
    if (closed) return Promise.reject(notReachable('the dashboard is shutting down'));
    if (opening) return opening;
    if (failure && now() - failure.at < retryAfterMs) return Promise.reject(notReachable(failure.reason));
    opening = open().then(
      (opened) => {
        adapter = opened;
        failure = null;
        onChange({ part, reachable: true });
        return opened;
      },
      (error: unknown) => {
        failure = { reason: errorMessage(error), at: now() };
        onChange({ part, reachable: false, reason: failure.reason });
        throw notReachable(failure.reason);
      },
    );
    opening.finally(() => (opening = null)).catch(() => {});
    return opening;
  }

  async function close(): Promise<void> {
    closed = true;
    await opening?.catch(() => {});
    await adapter?.close();
  }

  return new Proxy({} as T, {
    get(_target, property) {
      if (property === 'close') return close;
      if (property === ADAPTER) return current;
      // Not a thenable, and nothing else that is not one of the port's methods.
      if (typeof property !== 'string' || property === 'then') return undefined;
      return async (...args: unknown[]) => {
        const opened = await current();
        return (opened[property as keyof T] as (...a: unknown[]) => unknown).apply(opened, args);
      };
    },
  });
}

/** The adapter behind a port made by `openWhenReachable`, opening it if need be (for tests). */
export function adapterBehind(port: object): Promise<unknown> {
  const current = (port as Record<symbol, (() => Promise<unknown>) | undefined>)[ADAPTER];
  return current ? current() : Promise.resolve(port);
}
