import type { FastifyInstance } from 'fastify';
import type { TaskKind } from '../../core/domain/task-kind.js';
import type { DashboardDeps } from '../deps.js';
import { kindSchema } from '../schemas.js';

/** A kind as the API shows it. */
export type KindView = Pick<TaskKind, 'name' | 'image' | 'command' | 'cpu' | 'memoryGb' | 'timeoutSeconds' | 'retry'>;

/**
 * What a script may know of a kind: what runs, with what, for how long, retried when. Built
 * field by field from a list of what may be shown, never by removing what may not: `env`,
 * `secretEnv` and the registry's credentials stay out, and so does any field a kind gains later
 * until it is added here.
 */
export function kindView(kind: TaskKind): KindView {
  return {
    name: kind.name,
    image: kind.image,
    command: kind.command,
    cpu: kind.cpu,
    memoryGb: kind.memoryGb,
    timeoutSeconds: kind.timeoutSeconds,
    retry: { maxAttempts: kind.retry.maxAttempts, retryOnExitCodes: [...kind.retry.retryOnExitCodes] },
  };
}

/** GET /api/kinds: the kinds this stack runs, the built-in `default` first. */
export async function kindRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  app.get(
    '/api/kinds',
    {
      schema: {
        summary: 'The task kinds this stack runs (never their environment values or secrets)',
        response: { 200: { type: 'object', required: ['kinds'], properties: { kinds: { type: 'array', items: kindSchema } } } },
      },
    },
    async () => ({ kinds: deps.kinds.names().map((name) => kindView(deps.kinds.get(name)!)) }),
  );
}
