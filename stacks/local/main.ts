import { AppError, errorMessage } from '../../apps/core/domain/errors.js';
import { startLocalStack } from './local-stack.js';
import { readLocalSettings } from './settings.js';
import { startSummary } from './start-summary.js';

// `npm start`: the whole system on this machine. Ctrl-C once lets running tasks finish;
// twice stops them now. Either way no worker process is left behind.
const log = (line: string) => console.log(line);

// Everything the stack and its tasks' processes create (the store, the queue, containers' logs
// and output files) is the owner's only, whatever umask `npm start` was given; the children
// inherit it. Docker containers run as this user and make no files of their own in DATA_DIR but
// SQLite's -wal and -shm, which take the store file's mode.
process.umask(0o077);

try {
  const settings = readLocalSettings(process.env);
  const stack = await startLocalStack(settings, log);
  for (const line of startSummary(settings, stack.kinds)) log(line);
  log(`event-driven-aci is running at ${stack.url} (data in ${settings.dataDir}); Ctrl-C to stop`);

  let interrupted: () => void = () => {};
  const interrupt = new Promise<void>((resolve) => (interrupted = resolve));
  let stopping: Promise<void> | null = null as Promise<void> | null;
  const onSignal = () => {
    if (stopping) {
      interrupted();
      return;
    }
    log('stopping: no new tasks are started');
    stopping = stack.stop(interrupt).then(
      () => log('stopped'),
      (error) => {
        console.error(`error while stopping: ${errorMessage(error)}`);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Node's advice: after an uncaught error the process's state is unknown, so don't go on
  // serving blindly. Refuse work (503), let running tasks finish for the drain period, then
  // exit with one line saying why; the next start adopts what still runs.
  let failed = false;
  const onUnexpected = (error: unknown) => {
    console.error('unexpected error:', error);
    if (failed) return;
    failed = true;
    const reason = errorMessage(error);
    stack.refuseWork(reason);
    const stopped = stopping ?? stack.stop(new Promise<void>(() => {}));
    void stopped.finally(() => {
      console.error(`stopped after an unexpected error: ${reason}`);
      process.exit(1);
    });
  };
  process.on('uncaughtException', onUnexpected);
  process.on('unhandledRejection', onUnexpected);
} catch (error) {
  // A fault the user can fix is one line and exit 2; anything else is a bug, with its stack.
  console.error(error instanceof AppError ? errorMessage(error) : error);
  process.exit(error instanceof AppError ? 2 : 1);
}
