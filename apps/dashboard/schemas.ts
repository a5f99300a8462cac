import { JOB_STATES, REQUESTERS } from '../core/domain/job.js';
import { CONTAINER_NAME_PATTERN } from '../core/domain/container-name.js';

const nullableString = { type: ['string', 'null'] } as const;
const nullableNumber = { type: ['number', 'null'] } as const;

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' } },
} as const;

export const jobSchema = {
  type: 'object',
  required: ['id', 'containerName', 'message', 'state', 'enqueuedAt'],
  properties: {
    id: { type: 'string' },
    containerName: { type: 'string' },
    message: { type: 'string' },
    kind: { type: 'string' },
    state: { type: 'string', enum: JOB_STATES },
    enqueuedAt: { type: 'string' },
    dispatchedAt: nullableString,
    startedAt: nullableString,
    finishedAt: nullableString,
    attempts: { type: 'integer' },
    priorAttempts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['n', 'containerName', 'finishedAt', 'reason'],
        properties: {
          n: { type: 'integer' },
          containerName: { type: 'string' },
          dispatchedAt: nullableString,
          startedAt: nullableString,
          finishedAt: { type: 'string' },
          cpu: nullableNumber,
          memoryGb: nullableNumber,
          reason: { type: 'string' },
        },
      },
    },
    error: nullableString,
    output: {
      description:
        'The result: the JSON value of the program\'s last `{"output": <JSON value>}` line, else its last line as text; null until Done',
    },
    progress: nullableNumber,
    cpu: nullableNumber,
    memoryGb: nullableNumber,
    costUsd: { type: ['number', 'null'], description: 'What its containers cost at ACI prices, rounded to 1e-9 USD' },
    rev: { type: 'integer' },
    requeueOf: {
      type: ['object', 'null'],
      description: 'The failed task this one runs again, and who asked; null for submitted work',
      required: ['id', 'by'],
      properties: { id: { type: 'string' }, by: { type: 'string', enum: REQUESTERS } },
    },
  },
} as const;

export const jobIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 100 } },
} as const;

export const containerParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: CONTAINER_NAME_PATTERN.source } },
} as const;

const metricPoints = {
  type: 'array',
  items: { type: 'object', required: ['t', 'v'], properties: { t: { type: 'string' }, v: { type: 'number' } } },
} as const;

export const metricsSchema = {
  type: 'object',
  required: ['name', 'cpu', 'memory'],
  properties: { name: { type: 'string' }, cpu: metricPoints, memory: metricPoints },
} as const;

/** A task kind as GET /api/kinds shows it (routes/kinds.ts, kindView). */
export const kindSchema = {
  type: 'object',
  required: ['name', 'image', 'command', 'cpu', 'memoryGb', 'timeoutSeconds', 'retry'],
  // Closed: the serializer drops anything else, a second guard against a leaked field.
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    image: { type: ['string', 'null'], description: 'The image it runs in a container (Azure, CONTAINERS=docker)' },
    command: { type: ['array', 'null'], items: { type: 'string' }, description: 'The program it runs as a process on the local stack' },
    cpu: { type: 'number' },
    memoryGb: { type: 'number' },
    timeoutSeconds: { type: 'integer' },
    retry: {
      type: 'object',
      required: ['maxAttempts', 'retryOnExitCodes'],
      additionalProperties: false,
      properties: { maxAttempts: { type: 'integer' }, retryOnExitCodes: { type: 'array', items: { type: 'string' } } },
    },
  },
} as const;
