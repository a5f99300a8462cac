import type { Readable } from 'node:stream';

/**
 * One line of the JSON the engine streams while it builds or pulls. The status code is sent
 * before the work starts, so a failure arrives as a line with `error` (and `errorDetail`) in a
 * 200 answer: a reader must look at every line.
 */
export interface ProgressLine {
  /** A build's output. */
  stream?: string;
  /** A pull's state, of the image or (with `id`) of one layer. */
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** The lines of a progress stream as they arrive (a chunk may hold several, or part of one). */
export async function* progressLines(response: Readable): AsyncGenerator<ProgressLine> {
  let pending = '';
  for await (const chunk of response) {
    pending += (chunk as Buffer).toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.trim() !== '') yield parse(line);
  }
  if (pending.trim() !== '') yield parse(pending);
}

/** The failure a line reports, if it reports one. */
export function progressError(line: ProgressLine): string | null {
  if (line.error === undefined && line.errorDetail === undefined) return null;
  return (line.errorDetail?.message ?? line.error ?? 'unknown error').trim();
}

function parse(line: string): ProgressLine {
  try {
    return JSON.parse(line) as ProgressLine;
  } catch {
    // Not JSON: kept as output, so nothing the engine said is lost.
    return { stream: `${line}\n` };
  }
}
