import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import { verifySqliteFile } from '../../apps/core/adapters/sqlite/open.js';
import { StoreOpenError } from '../../apps/core/domain/errors.js';
import { damagePages, storeWithJobs } from '../damaged-sqlite.js';
import { buildTestApp } from './test-app.js';
import { tempDir } from '../helpers.js';

describe('a SQLite store with damaged pages', () => {
  const dirs: ReturnType<typeof tempDir>[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    for (const dir of dirs.splice(0)) dir.remove();
  });
  const folder = () => {
    const dir = tempDir();
    dirs.push(dir);
    return dir.path;
  };

  it('is caught before it opens: quick_check names the file and what to do', async () => {
    const path = join(folder(), 'jobs.db');
    await storeWithJobs(path, 2000);
    expect(() => verifySqliteFile(path)).not.toThrow();
    damagePages(path);
    expect(() => verifySqliteFile(path)).toThrow(StoreOpenError);
    expect(() => verifySqliteFile(path)).toThrow(new RegExp(`^${path} is damaged \\(.+\\): restore it from a backup, or move it away to start with an empty one$`));
  });

  it('tells a file that is not a database from a damaged one', () => {
    const path = join(folder(), 'notes.db');
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
    expect(() => verifySqliteFile(path)).toThrow(`${path} is not a SQLite database (file is not a database): move it away, and an empty one is made at the next start`);
  });

  it('found while running makes /healthz answer 503, as every page fails', async () => {
    const dir = folder();
    const path = join(dir, 'jobs.db');
    await storeWithJobs(path, 2000);
    const store = new SqliteJobStore(path);
    const dash = await buildTestApp({ deps: { store } });
    closers.push(() => dash.close(), () => store.close());
    const { app } = dash;
    expect((await app.inject('/healthz')).statusCode).toBe(200);

    damagePages(path);
    const page = await app.inject('/');
    expect(page.statusCode).toBe(500);
    expect(page.json()).toEqual({ error: 'internal error' });
    const health = await app.inject('/healthz');
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ ok: false, queue: 'ok' });
    expect(health.json().store).toMatch(new RegExp(`^error: ${path} is damaged \\(database disk image is malformed\\)`));
  });
});
