import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { containerNameFor } from '../apps/core/domain/container-name.js';
import { newPendingJob } from '../apps/core/domain/job.js';
import { newJobId } from '../apps/core/domain/job-id.js';
import type { SqliteDriverName } from '../apps/core/adapters/sqlite/driver.js';
import { SqliteJobStore } from '../apps/core/adapters/sqlite/job-store.js';

const PAGE_SIZE = 4096; // SQLite's default, which the stores keep

/** A store file with `jobs` tasks, closed so that every page is in the file itself (not the WAL). */
export async function storeWithJobs(path: string, jobs: number, driver?: SqliteDriverName): Promise<void> {
  const store = new SqliteJobStore(path, { driver });
  for (let i = 0; i < jobs; i++) {
    const id = newJobId();
    await store.insert(newPendingJob(id, containerNameFor(id), `task ${i} ${'x'.repeat(200)}`, new Date()));
  }
  await store.close();
}

/** Writes garbage over the start of a few pages in the middle of a SQLite file, as a bad disk would. */
export function damagePages(path: string): void {
  const pages = Math.floor(statSync(path).size / PAGE_SIZE);
  if (pages < 10) throw new Error(`${path} has only ${pages} pages: too few to damage the middle`);
  const fd = openSync(path, 'r+');
  try {
    for (let page = Math.floor(pages / 2); page < Math.floor(pages / 2) + 4; page++) {
      writeSync(fd, Buffer.alloc(64, 0xee), 0, 64, page * PAGE_SIZE);
    }
  } finally {
    closeSync(fd);
  }
}
