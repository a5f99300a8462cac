import { createHash } from 'node:crypto';

/**
 * ACI container group names: 1 to 63 characters, lowercase letters, digits and single
 * hyphens, starting and ending with a letter or digit.
 */
export const CONTAINER_NAME_PATTERN = /^(?=.{1,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
const PREFIX = 'task-';
const MAX_LENGTH = 63;

/**
 * The container name of a job. Deterministic, so a message delivered twice maps to the
 * same container and starts it once. An id that is already a clean name (the UUIDs the
 * dashboard makes) reads back plainly; anything else is cleaned and suffixed with a hash of
 * the original so that two ids never collide on one name.
 */
export function containerNameFor(jobId: string, attempt = 1): string {
  // Attempt 1 keeps the plain name; later ones are names of their own, so that a message
  // delivered twice for one attempt starts one container, and two attempts never share one.
  if (attempt > 1) return containerNameFor(`${jobId}-a${attempt}`);
  const cleaned = jobId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const plain = `${PREFIX}${cleaned}`;
  if (cleaned !== '' && cleaned === jobId && plain.length <= MAX_LENGTH) return plain;
  const hash = createHash('sha256').update(jobId).digest('hex').slice(0, 10);
  const room = MAX_LENGTH - PREFIX.length - hash.length - 1;
  const head = cleaned.slice(0, room).replace(/-+$/, '');
  return head ? `${PREFIX}${head}-${hash}` : `${PREFIX}${hash}`;
}
