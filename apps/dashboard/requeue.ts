import type { Requester } from '../core/domain/job.js';
import { HttpError, notFound } from './http-errors.js';
import { submitWorkOnce, validateKind, type SubmitDeps, type Submission } from './submit-work.js';

/**
 * Runs a failed task's message again as a new task, once: the failed task stays as history,
 * and a second requeue of it (a double click, a retried request, the API after the dashboard)
 * gets the task the first one made, with `replayed`. The dashboard's button and the API share
 * this and its idempotency key. Only a Failed task can be requeued (409 otherwise).
 */
export async function requeueFailed(id: string, by: Requester, deps: SubmitDeps & { kinds: readonly string[] }): Promise<Submission> {
  const failed = await deps.store.get(id);
  if (!failed) throw notFound(`no job with id ${id}`);
  if (failed.state !== 'Failed') throw new HttpError(409, 'NOT_FAILED', `only a failed task can be requeued; this one is ${failed.state}`);
  const work = { message: failed.message, kind: validateKind(failed.kind, deps.kinds), requeueOf: { id: failed.id, by } };
  return submitWorkOnce(work, `requeue:${failed.id}`, deps);
}
