import { AppError } from '../core/domain/errors.js';
import type { DeadLetterCopyBody, Deferral, WatchMessageBody, WorkMessageBody } from '../core/domain/work-queue.port.js';

export class MalformedMessageError extends AppError {
  constructor(detail: string) {
    super('MALFORMED_MESSAGE', `the queue message is not a work or watch message: ${detail}`);
  }
}

export type ParsedMessage =
  | { type: 'work'; work: WorkMessageBody }
  | { type: 'watch'; watch: WatchMessageBody }
  | { type: 'dead-letter'; copy: DeadLetterCopyBody };

/** Validates what came off the queue: anything else is poison, never retried. */
export function parseQueueMessage(body: unknown): ParsedMessage {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new MalformedMessageError('not an object');
  const fields = body as Record<string, unknown>;
  if (fields.type === 'dead-letter') return { type: 'dead-letter', copy: parseDeadLetterCopy(fields) };
  if (typeof fields.jobId !== 'string' || fields.jobId === '') throw new MalformedMessageError('jobId is missing');
  if (fields.type === 'watch') {
    const { jobId, containerName, n, until } = fields;
    if (typeof containerName !== 'string' || containerName === '') throw new MalformedMessageError('a watch needs containerName');
    if (!isWholeNumberFromOne(n)) throw new MalformedMessageError('a watch needs n, a whole number from 1');
    if (typeof until !== 'string' || Number.isNaN(Date.parse(until))) throw new MalformedMessageError('a watch needs until, an ISO time');
    const watch: WatchMessageBody = { type: 'watch', jobId: jobId as string, containerName, n, until };
    const deferral = parseDeferral(fields.deferral);
    if (deferral) watch.deferral = deferral;
    return { type: 'watch', watch };
  }
  if (fields.type !== undefined) throw new MalformedMessageError(`unknown type ${JSON.stringify(fields.type)}`);
  if (typeof fields.message !== 'string') throw new MalformedMessageError('message is missing');
  if (fields.attempt !== undefined && !isWholeNumberFromOne(fields.attempt)) throw new MalformedMessageError('attempt must be a whole number from 1');
  const work: WorkMessageBody = { jobId: fields.jobId as string, message: fields.message };
  if (fields.attempt !== undefined) work.attempt = fields.attempt as number;
  const deferral = parseDeferral(fields.deferral);
  if (deferral) work.deferral = deferral;
  return { type: 'work', work };
}

function parseDeadLetterCopy(fields: Record<string, unknown>): DeadLetterCopyBody {
  const letter = (typeof fields.letter === 'object' && fields.letter !== null ? fields.letter : null) as Record<string, unknown> | null;
  if (!letter || typeof letter.messageId !== 'string' || typeof letter.enqueuedAt !== 'string' || typeof letter.deliveryCount !== 'number') {
    throw new MalformedMessageError('a dead-letter copy needs letter { messageId, body, deliveryCount, enqueuedAt, reason, description }');
  }
  if (!isWholeNumberFromOne(fields.n)) throw new MalformedMessageError('a dead-letter copy needs n, a whole number from 1');
  if (typeof fields.since !== 'string' || Number.isNaN(Date.parse(fields.since))) throw new MalformedMessageError('a dead-letter copy needs since, an ISO time');
  return {
    type: 'dead-letter',
    letter: {
      messageId: letter.messageId,
      body: letter.body,
      deliveryCount: letter.deliveryCount,
      enqueuedAt: letter.enqueuedAt,
      reason: String(letter.reason ?? ''),
      description: String(letter.description ?? ''),
    },
    n: fields.n,
    since: fields.since,
  };
}

function parseDeferral(value: unknown): Deferral | null {
  if (value === undefined) return null;
  const fields = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (!isWholeNumberFromOne(fields.n)) throw new MalformedMessageError('deferral.n must be a whole number from 1');
  if (fields.since !== undefined && (typeof fields.since !== 'string' || Number.isNaN(Date.parse(fields.since)))) {
    throw new MalformedMessageError('deferral.since must be an ISO time');
  }
  return fields.since === undefined ? { n: fields.n } : { n: fields.n, since: fields.since as string };
}

function isWholeNumberFromOne(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

/** A work message, or MalformedMessageError: for the paths that take work alone (the local consumer). */
export function parseWorkMessage(body: unknown): WorkMessageBody {
  const parsed = parseQueueMessage(body);
  if (parsed.type !== 'work') throw new MalformedMessageError(`a ${parsed.type} message where work was expected`);
  return parsed.work;
}


