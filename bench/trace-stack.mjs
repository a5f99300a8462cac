// Preloaded into a stack process by the benchmark (node --import), never by `npm start`: wraps
// the built adapters' methods to note, on the wall clock, when each step of a task's dispatch
// began and ended, and writes them to BENCH_TRACE when the stack exits. The stack imports the
// same modules, so it runs the wrapped methods; its workers are started without this.
import { writeFileSync } from 'node:fs';

const dist = new URL('../dist/', import.meta.url);
const load = (path) => import(new URL(path, dist).href);
const { SqliteJobStore } = await load('apps/core/adapters/sqlite/job-store.js');
const { SqliteWorkQueue } = await load('apps/core/adapters/sqlite/work-queue.js');
const { ProcessRuntime } = await load('apps/core/adapters/process/runtime.js');

const events = [];
const now = () => performance.timeOrigin + performance.now();

function wrap(prototype, method, keyOf) {
  const original = prototype[method];
  prototype[method] = async function (...args) {
    const started = now();
    const result = await original.apply(this, args);
    events.push({ step: method, key: keyOf(args, result), started, ended: now() });
    return result;
  };
}

function wrapSync(prototype, method, keyOf) {
  const original = prototype[method];
  prototype[method] = function (...args) {
    const started = now();
    const result = original.apply(this, args);
    events.push({ step: method, key: keyOf(args, result), started, ended: now() });
    return result;
  };
}

wrap(SqliteJobStore.prototype, 'insert', (_args, job) => job.id);
wrap(SqliteJobStore.prototype, 'get', ([id]) => id);
wrap(SqliteJobStore.prototype, 'markDispatched', ([containerName]) => containerName);
wrap(SqliteWorkQueue.prototype, 'send', ([message]) => message.messageId);
wrap(SqliteWorkQueue.prototype, 'waitForMessages', () => null);
wrap(SqliteWorkQueue.prototype, 'receive', (_args, messages) => messages.map((m) => m.body?.jobId ?? null));
wrap(ProcessRuntime.prototype, 'start', ([spec]) => spec.jobId);
wrapSync(ProcessRuntime.prototype, 'finish', ([container]) => container.name);

process.on('exit', () => writeFileSync(process.env.BENCH_TRACE, JSON.stringify(events)));
