import { writeSync } from 'node:fs';

/**
 * Writes one line to standard output, at once. Not console.log: its first call sets up a stream
 * for stdout, which costs a task's start several milliseconds (npm run bench, "worker cold
 * start"). A non-blocking pipe that is full (EAGAIN) is the one case a synchronous write cannot
 * wait out: the rest then goes through that stream, which does.
 */
export function writeLine(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    process.stdout.write(bytes.subarray(written));
  }
}
