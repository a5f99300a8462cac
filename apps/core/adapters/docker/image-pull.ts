import { DockerEngineError, type DockerEngine } from './docker-engine.js';
import { progressError, progressLines } from './engine-progress.js';
import { imageExists } from './image-build.js';
import type { BuildLog } from './image-build.js';

/** How an image came to be on the engine, or why it is not there. */
export type PullOutcome = { ok: true; how: 'on the engine' | 'pulled' } | { ok: false; why: string };

// A layer's own progress ("Downloading 12MB/30MB") would be hundreds of lines; these say
// what matters: the pull started, each layer arrived, and how it ended.
const LOGGED_STATUS = /^(Pulling from|Pull complete|Already exists|Digest:|Status:)/;

/**
 * Makes sure the engine has an image, pulling it when it has not (POST /images/create). An
 * engine that reaches no registry answers 500, or 200 and then an error line: both are a
 * failed pull, not an error, since the caller has another base to use.
 */
export async function pullIfMissing(engine: DockerEngine, reference: string, log: BuildLog): Promise<PullOutcome> {
  if (await imageExists(engine, reference)) return { ok: true, how: 'on the engine' };
  const { name, tag } = splitReference(reference);
  try {
    const response = await engine.stream('POST', '/images/create', { query: { fromImage: name, tag } });
    for await (const line of progressLines(response)) {
      const error = progressError(line);
      if (error !== null) return { ok: false, why: error };
      if (line.status && LOGGED_STATUS.test(line.status)) log(`${reference}: ${line.id ? `${line.id} ` : ''}${line.status}`);
    }
  } catch (error) {
    if (error instanceof DockerEngineError) return { ok: false, why: error.message };
    throw error;
  }
  return (await imageExists(engine, reference)) ? { ok: true, how: 'pulled' } : { ok: false, why: `the pull of ${reference} ended, yet the engine has no such image` };
}

/**
 * `name[:tag][@digest]` as /images/create takes it. The tag is never left empty: an empty tag
 * pulls every tag of the repository.
 */
export function splitReference(reference: string): { name: string; tag: string } {
  const at = reference.indexOf('@');
  if (at >= 0) return { name: reference.slice(0, at).replace(/:[^/:]*$/, ''), tag: reference.slice(at + 1) };
  const colon = reference.lastIndexOf(':');
  if (colon > reference.lastIndexOf('/')) return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { name: reference, tag: 'latest' };
}
