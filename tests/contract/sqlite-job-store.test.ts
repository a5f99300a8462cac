import { join } from 'node:path';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite-job-store.js';
import { tempDir } from '../helpers.js';
import { jobStoreContract } from './job-store.contract.js';

jobStoreContract('SqliteJobStore', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'jobs.db');
  const store = new SqliteJobStore(path);
  return {
    store,
    uri: `sqlite:${path}`,
    cleanup: async () => {
      await store.close();
      dir.remove();
    },
  };
});
