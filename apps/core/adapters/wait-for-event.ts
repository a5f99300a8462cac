import type { EventEmitter } from 'node:events';

/** Resolves on the next `event` from `emitter`, or after `timeoutMs`, whichever is first. */
export function waitForEvent(emitter: EventEmitter, event: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      emitter.off(event, done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    emitter.on(event, done);
  });
}
