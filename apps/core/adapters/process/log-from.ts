import { open } from 'node:fs/promises';
import type { LogChunk } from '../../domain/container-runtime.port.js';
import { MAX_LOG_BYTES } from '../log-tail.js';

/**
 * What a log file holds from byte `from` on, at most MAX_LOG_BYTES of it, so a follower reads
 * only what is new. A read that starts past the end (a reader from an earlier file of the same
 * name) starts again at 0. The chunk ends on a whole UTF-8 character: the bytes of one cut in
 * two by a write in progress come with the next read.
 */
export async function readLogFrom(file: string, from: number): Promise<LogChunk> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', next: 0 };
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const start = from > size ? 0 : Math.max(0, from);
    const length = Math.min(size - start, MAX_LOG_BYTES);
    if (length <= 0) return { text: '', next: start };
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, start);
    const whole = wholeCharacters(buffer.subarray(0, bytesRead));
    return { text: whole.toString('utf8'), next: start + whole.length };
  } finally {
    await handle.close();
  }
}

/** The bytes up to the last character that is complete: a lead byte whose continuation bytes are not all there is left out. */
export function wholeCharacters(bytes: Buffer): Buffer {
  // A UTF-8 character is at most 4 bytes: only the last 3 can belong to an unfinished one.
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.subarray(0, bytes.length - back) : bytes;
  }
  return bytes;
}
