// Logs are served from the tail: the same idea as ACI, which keeps the end of the output.
export const MAX_LOG_BYTES = 256 * 1024;

/** The last MAX_LOG_BYTES of a container's output as text, marked when earlier output was left out. */
export function logTail(output: Buffer): string {
  const start = Math.max(0, output.length - MAX_LOG_BYTES);
  const text = output.subarray(start).toString('utf8');
  return start > 0 ? `[earlier output truncated]\n${text}` : text;
}
