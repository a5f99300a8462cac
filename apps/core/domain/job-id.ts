import { createHash, randomBytes } from 'node:crypto';

/**
 * Job ids are UUIDv7: time-ordered, so "newest first" and cursor paging are a plain sort
 * on the id in every store. Within one millisecond a counter keeps ids from one process
 * increasing (RFC 9562, method 1).
 */
let lastMs = 0;
let counter = 0;

export function newJobId(now: number = Date.now()): string {
  if (now <= lastMs) {
    counter += 1;
    if (counter > 0xfff) {
      lastMs += 1;
      counter = 0;
    }
  } else {
    lastMs = now;
    counter = randomBytes(1)[0]! & 0x3f; // leaves room to count up within the millisecond
  }
  const bytes = randomBytes(16);
  let ms = lastMs;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | ((counter >> 8) & 0x0f);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A UUIDv7 for a moment and a seed, the same every time: a record made from a queue message
 * (a poison message, say) gets one id however often the message is delivered, and still sorts
 * by time among the others.
 */
export function jobIdFrom(at: Date, seed: string): string {
  const bytes = createHash('sha256').update(seed).digest().subarray(0, 16);
  let ms = at.getTime();
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Whether `text` has the form of a job id (a UUIDv7 as newJobId and jobIdFrom write it). */
export function isJobId(text: string): boolean {
  return UUID_V7.test(text);
}
