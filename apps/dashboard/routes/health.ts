import type { FastifyInstance } from 'fastify';
import { errorMessage } from '../../core/domain/errors.js';
import type { DashboardDeps } from '../deps.js';

const CHECK_TIMEOUT_MS = 3000;

async function check(probe: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `error: ${errorMessage(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

export async function healthRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const status = {
    type: 'object',
    required: ['ok', 'store', 'queue'],
    properties: { ok: { type: 'boolean' }, store: { type: 'string' }, queue: { type: 'string' }, storage: { type: 'string' } },
  } as const;
  const storageFault = deps.storageFault;
  app.get('/healthz', { schema: { response: { 200: status, 503: status } } }, async (_request, reply) => {
    const [store, queue, storage] = await Promise.all([
      check(() => deps.store.ping()),
      check(() => deps.queue.ping()),
      // Where the stack keeps files of its own (DATA_DIR): can it write there now?
      storageFault
        ? check(async () => {
            const fault = await storageFault();
            if (fault) throw new Error(fault);
          })
        : undefined,
    ]);
    const ok = store === 'ok' && queue === 'ok' && (storage ?? 'ok') === 'ok';
    reply.code(ok ? 200 : 503);
    return storage === undefined ? { ok, store, queue } : { ok, store, queue, storage };
  });
}
