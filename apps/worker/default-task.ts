import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The original system's task: wait a set number of seconds, then report. It reports how far
 * through it is, so the dashboard never shows long work as a silent box.
 */
export async function defaultTask(
  message: string,
  workSeconds: number,
  onProgress: (fraction: number) => Promise<void>,
): Promise<string> {
  const started = Date.now();
  const totalMs = workSeconds * 1000;
  // About ten reports over the task, none closer than 250 ms, none further apart than 1 s.
  const stepMs = Math.min(1000, Math.max(250, totalMs / 10));
  for (let elapsed = 0; elapsed < totalMs; elapsed = Date.now() - started) {
    await sleep(Math.min(stepMs, totalMs - elapsed));
    await onProgress(Math.min(1, (Date.now() - started) / totalMs));
  }
  const bytes = Buffer.byteLength(message);
  const preview = message.length > 60 ? `${message.slice(0, 60)}…` : message;
  return `processed "${preview}" (${bytes} bytes) in ${((Date.now() - started) / 1000).toFixed(1)} s`;
}
