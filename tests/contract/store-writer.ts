// Helper process for the JobStore contract: opens the store named on the command line, says
// "ready", waits for a line on stdin, then writes to the named containers' jobs, so that two of
// these race on the same store from the same moment. SQLITE_DRIVER names the SQLite driver to
// open it with (tests/contract/store-writer-process.ts).
import { once } from 'node:events';
import { openJobStore } from '../../apps/core/adapters/open-job-store.js';
import type { SqliteDriverName } from '../../apps/core/adapters/sqlite/driver.js';

const [uri, action, ...names] = process.argv.slice(2);
const store = await openJobStore(uri!, { sqliteDriver: process.env.SQLITE_DRIVER as SqliteDriverName | undefined });
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.destroy();
for (const name of names) {
  if (action === 'run-to-done') {
    await store.markStarted(name, new Date());
    await store.reportProgress(name, 0.5);
    await store.markDone(name, new Date(), 'done');
  } else {
    await store.markFailed(name, new Date(), 'failed by the other writer');
  }
}
await store.close();
