import Module, { createRequire } from 'node:module';
import { join } from 'node:path';
import type { InvocationContext } from '@azure/functions';
import { ROOT } from './helpers.js';

/**
 * Turns what the Functions host sends the Node.js worker for one invocation (an RPC
 * InvocationRequest: trigger metadata and input data as RpcTypedData, PascalCase keys as the
 * Service Bus extension names them) into the handler's arguments with `@azure/functions`' own
 * code: its ProgrammingModel's InvocationModel.getArguments, which runs fromRpcTriggerMetadata
 * and toCamelCaseValue. Nothing here changes a key: the library does, as on Azure.
 *
 * In Azure the worker provides `@azure/functions-core`; here the stand-in in
 * tests/fixtures/functions-core takes its place, and the library hands it its programming model.
 */
const STAND_IN = join(ROOT, 'tests/fixtures/functions-core/index.js');

type RpcTypedData = { string?: string; json?: string; int?: number; double?: number; bytes?: Uint8Array };
interface ProgrammingModel {
  getInvocationModel(coreCtx: unknown): { getArguments(): Promise<{ context: InvocationContext; inputs: unknown[] }> };
}

let model: ProgrammingModel | null = null;

function programmingModel(): ProgrammingModel {
  if (model) return model;
  const resolver = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = resolver._resolveFilename;
  resolver._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === '@azure/functions-core' ? STAND_IN : original.call(this, request, ...rest);
  };
  try {
    const require = createRequire(join(ROOT, 'package.json'));
    // A fresh copy of the library, so that it finds the stand-in (a copy loaded before may have
    // settled into its test mode, with no core to register with).
    const entry = require.resolve('@azure/functions');
    delete require.cache[entry];
    const functions = require(entry) as { app: { generic: (name: string, options: unknown) => void } };
    const core = require(STAND_IN) as { programmingModel: ProgrammingModel | null };
    // Registering a function is what makes the library set its programming model.
    functions.app.generic('probe', { trigger: { type: 'serviceBusTrigger', name: 'message', queueName: 'probe', connection: 'x' }, handler: () => {} });
    if (!core.programmingModel) throw new Error('@azure/functions did not register its programming model with the functions-core stand-in');
    model = core.programmingModel;
    return model;
  } finally {
    resolver._resolveFilename = original;
  }
}

/** A Service Bus trigger's invocation, as the host sends it, through the library's conversion. */
export async function serviceBusInvocation(
  functionName: string,
  message: RpcTypedData,
  triggerMetadata: Record<string, RpcTypedData>,
): Promise<{ message: unknown; context: InvocationContext }> {
  const coreCtx = {
    invocationId: `invocation-${Math.random().toString(16).slice(2)}`,
    // The worker's log channel, which the context's log calls go to.
    log: () => {},
    metadata: { name: functionName, bindings: { message: { type: 'serviceBusTrigger', direction: 'in' } } },
    request: { triggerMetadata, inputData: [{ name: 'message', data: message }] },
  };
  const { context, inputs } = await programmingModel().getInvocationModel(coreCtx).getArguments();
  return { message: inputs[0], context };
}
