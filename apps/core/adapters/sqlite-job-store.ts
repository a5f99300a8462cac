import type Database from 'better-sqlite3';
import { DuplicateJobError } from '../domain/errors.js';
import { JOB_STATES, statesBefore, type AttemptRecord, type Job, type JobState } from '../domain/job.js';
import { billedUnits } from '../domain/pricing.js';
import type {
  ContainerArtifacts,
  IdempotencyClaim,
  JobPage,
  JobStore,
  ListQuery,
  NextAttempt,
  Resources,
  UsageTotals,
} from '../domain/job-store.port.js';
import { openSqlite, watchForDamage, type DamageWatch } from './sqlite-open.js';

interface JobRow {
  id: string;
  container_name: string;
  message: string;
  kind: string;
  state: JobState;
  enqueued_at: string;
  dispatched_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  attempts: number;
  prior_attempts: string;
  error: string | null;
  output: string | null;
  progress: number | null;
  cpu: number | null;
  memory_gb: number | null;
  rev: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  container_name TEXT NOT NULL UNIQUE,
  message TEXT NOT NULL,
  state TEXT NOT NULL,
  enqueued_at TEXT NOT NULL,
  dispatched_at TEXT,
  started_at TEXT,
  finished_at TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  output TEXT,
  progress REAL,
  cpu REAL,
  memory_gb REAL,
  rev INTEGER NOT NULL,
  prior_attempts TEXT NOT NULL DEFAULT '[]',
  prior_vcpu_seconds REAL NOT NULL DEFAULT 0,
  prior_gb_seconds REAL NOT NULL DEFAULT 0,
  kind TEXT NOT NULL DEFAULT 'default'
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, id);
CREATE INDEX IF NOT EXISTS jobs_by_rev ON jobs(rev);
CREATE TABLE IF NOT EXISTS container_artifacts (
  container_name TEXT PRIMARY KEY,
  logs TEXT NOT NULL,
  metrics TEXT
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
  key TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  job_id TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys(created_at);
`;

// Columns added after the first release, for stores made before them.
const ADDED_COLUMNS: Record<string, string> = {
  prior_attempts: "TEXT NOT NULL DEFAULT '[]'",
  prior_vcpu_seconds: 'REAL NOT NULL DEFAULT 0',
  prior_gb_seconds: 'REAL NOT NULL DEFAULT 0',
  kind: "TEXT NOT NULL DEFAULT 'default'",
};

// Every write takes the next store-wide revision inside the same statement; SQLite runs one
// writer at a time, so revisions are unique and increase in commit order.
const NEXT_REV = '(SELECT COALESCE(MAX(rev), 0) + 1 FROM jobs)';

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    containerName: row.container_name,
    message: row.message,
    kind: row.kind,
    state: row.state,
    enqueuedAt: row.enqueued_at,
    dispatchedAt: row.dispatched_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    attempts: row.attempts,
    priorAttempts: JSON.parse(row.prior_attempts) as AttemptRecord[],
    error: row.error,
    output: row.output,
    progress: row.progress,
    cpu: row.cpu,
    memoryGb: row.memory_gb,
    rev: row.rev,
  };
}

function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

/** The job store in one SQLite file, shared by the dashboard, the spawner and every worker. */
export class SqliteJobStore implements JobStore {
  private readonly db: Database.Database;
  private readonly damage: DamageWatch;

  constructor(path: string) {
    this.db = openSqlite(path);
    this.damage = watchForDamage(this.db, path);
    this.db.exec(SCHEMA);
    const present = new Set((this.db.prepare('PRAGMA table_info(jobs)').all() as { name: string }[]).map((c) => c.name));
    for (const [column, definition] of Object.entries(ADDED_COLUMNS)) {
      if (!present.has(column)) this.db.exec(`ALTER TABLE jobs ADD COLUMN ${column} ${definition}`);
    }
  }

  async insert(job: Job): Promise<Job> {
    const result = this.db
      .prepare(
        `INSERT INTO jobs (id, container_name, message, kind, state, enqueued_at, dispatched_at, started_at,
           finished_at, attempts, prior_attempts, error, output, progress, cpu, memory_gb, rev)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${NEXT_REV})
         ON CONFLICT DO NOTHING`,
      )
      .run(
        job.id,
        job.containerName,
        job.message,
        job.kind,
        job.state,
        job.enqueuedAt,
        job.dispatchedAt,
        job.startedAt,
        job.finishedAt,
        job.attempts,
        JSON.stringify(job.priorAttempts),
        job.error,
        job.output,
        job.progress,
        job.cpu,
        job.memoryGb,
      );
    if (result.changes === 0) throw new DuplicateJobError(job.id);
    return (await this.get(job.id))!;
  }

  async get(id: string): Promise<Job | null> {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  async getByContainerName(containerName: string): Promise<Job | null> {
    const row = this.db.prepare('SELECT * FROM jobs WHERE container_name = ?').get(containerName) as
      | JobRow
      | undefined;
    return row ? toJob(row) : null;
  }

  async list({ state, limit, cursor }: ListQuery): Promise<JobPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (state) {
      where.push('state = ?');
      params.push(state);
    }
    if (cursor) {
      where.push('id < ?');
      params.push(cursor);
    }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, limit + 1) as JobRow[];
    const jobs = rows.slice(0, limit).map(toJob);
    return { jobs, next: rows.length > limit ? jobs[jobs.length - 1]!.id : null };
  }

  async changedSince(rev: number, limit: number): Promise<Job[]> {
    const rows = this.db
      .prepare('SELECT * FROM jobs WHERE rev > ? ORDER BY rev LIMIT ?')
      .all(rev, limit) as JobRow[];
    return rows.map(toJob);
  }

  async currentRev(): Promise<number> {
    const row = this.db.prepare('SELECT COALESCE(MAX(rev), 0) AS rev FROM jobs').get() as { rev: number };
    return row.rev;
  }

  async counts(): Promise<Record<JobState, number>> {
    const rows = this.db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as {
      state: JobState;
      n: number;
    }[];
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  async usageTotals(): Promise<UsageTotals> {
    // Billed from dispatch (the nearest recorded moment to the image pull) to finish, whole seconds.
    const row = this.db
      .prepare(
        `WITH billed AS (
           SELECT cpu, memory_gb,
             MAX(0, CAST(CEIL((julianday(finished_at) - julianday(COALESCE(dispatched_at, started_at))) * 86400 - 1e-6) AS INTEGER)) AS seconds
           FROM jobs
           WHERE finished_at IS NOT NULL AND cpu IS NOT NULL AND COALESCE(dispatched_at, started_at) IS NOT NULL)
         SELECT COALESCE(SUM(seconds * cpu), 0) AS vcpu, COALESCE(SUM(seconds * memory_gb), 0) AS gb FROM billed`,
      )
      .get() as { vcpu: number; gb: number };
    // Earlier attempts, of every job, finished when they were retried.
    const prior = this.db
      .prepare('SELECT COALESCE(SUM(prior_vcpu_seconds), 0) AS vcpu, COALESCE(SUM(prior_gb_seconds), 0) AS gb FROM jobs')
      .get() as { vcpu: number; gb: number };
    return { vcpuSeconds: row.vcpu + prior.vcpu, gbSeconds: row.gb + prior.gb };
  }

  async listActive(): Promise<Job[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM jobs WHERE state = 'InProgress' OR (state = 'Pending' AND dispatched_at IS NOT NULL)
         ORDER BY id`,
      )
      .all() as JobRow[];
    return rows.map(toJob);
  }

  async markDispatched(containerName: string, attempt: number, at: Date, resources: Resources): Promise<boolean> {
    // In any state: the worker may have written InProgress, even Done, before this lands.
    return this.change(
      `dispatched_at = COALESCE(dispatched_at, ?), attempts = MAX(attempts, ?), cpu = COALESCE(cpu, ?),
       memory_gb = COALESCE(memory_gb, ?), error = CASE WHEN state = 'Pending' THEN NULL ELSE error END`,
      [at.toISOString(), attempt, resources.cpu, resources.memoryGb],
      'container_name = ? AND dispatched_at IS NULL',
      containerName,
      [...JOB_STATES],
    );
  }

  async noteDispatchError(containerName: string, error: string): Promise<boolean> {
    return this.change('error = ?', [error], 'container_name = ?', containerName, ['Pending']);
  }

  async beginRetry(containerName: string, next: NextAttempt): Promise<boolean> {
    const units = billedUnits(next.ended);
    return this.change(
      `prior_attempts = json_insert(prior_attempts, '$[#]', json(?)), prior_vcpu_seconds = prior_vcpu_seconds + ?,
       prior_gb_seconds = prior_gb_seconds + ?, container_name = ?, state = 'Pending', dispatched_at = NULL,
       started_at = NULL, finished_at = NULL, progress = NULL, cpu = NULL, memory_gb = NULL, output = NULL, error = ?`,
      [JSON.stringify(next.ended), units?.vcpuSeconds ?? 0, units?.gbSeconds ?? 0, next.containerName, next.ended.reason],
      'container_name = ?',
      containerName,
      statesBefore('Done'),
    );
  }

  async markStarted(containerName: string, at: Date): Promise<boolean> {
    return this.change(
      `state = 'InProgress', started_at = ?, progress = 0, error = NULL`,
      [at.toISOString()],
      'container_name = ?',
      containerName,
      statesBefore('InProgress'),
    );
  }

  async reportProgress(containerName: string, progress: number): Promise<boolean> {
    return this.change(
      'progress = ?',
      [progress],
      'container_name = ? AND (progress IS NULL OR progress < ?)',
      [containerName, progress],
      ['InProgress'],
    );
  }

  async markDone(containerName: string, at: Date, output: string): Promise<boolean> {
    return this.finish(containerName, 'Done', at, { output, error: null });
  }

  async markFailed(containerName: string, at: Date, error: string): Promise<boolean> {
    return this.finish(containerName, 'Failed', at, { output: null, error });
  }

  async saveArtifacts(containerName: string, artifacts: ContainerArtifacts): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO container_artifacts (container_name, logs, metrics) VALUES (?, ?, ?)
         ON CONFLICT (container_name) DO UPDATE SET logs = excluded.logs, metrics = excluded.metrics`,
      )
      .run(containerName, artifacts.logs, artifacts.metrics ? JSON.stringify(artifacts.metrics) : null);
  }

  async getArtifacts(containerName: string): Promise<ContainerArtifacts | null> {
    const row = this.db
      .prepare('SELECT logs, metrics FROM container_artifacts WHERE container_name = ?')
      .get(containerName) as { logs: string; metrics: string | null } | undefined;
    return row ? { logs: row.logs, metrics: row.metrics ? JSON.parse(row.metrics) : null } : null;
  }

  async claimIdempotencyKey(claim: IdempotencyClaim, expiredBefore: Date): Promise<IdempotencyClaim> {
    return this.db.transaction(() => {
      // Forgetting every expired claim here keeps the table to one window of keys.
      this.db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?').run(expiredBefore.toISOString());
      this.db
        .prepare('INSERT INTO idempotency_keys (key, fingerprint, job_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(claim.key, claim.fingerprint, claim.jobId, claim.createdAt);
      const row = this.db.prepare('SELECT * FROM idempotency_keys WHERE key = ?').get(claim.key) as {
        key: string;
        fingerprint: string;
        job_id: string;
        created_at: string;
      };
      return { key: row.key, fingerprint: row.fingerprint, jobId: row.job_id, createdAt: row.created_at };
    }).immediate();
  }

  async releaseIdempotencyKey(key: string, jobId: string): Promise<void> {
    this.db.prepare('DELETE FROM idempotency_keys WHERE key = ? AND job_id = ?').run(key, jobId);
  }

  /** Reads real pages (the revision index), and fails for good once damage has been seen. */
  async ping(): Promise<void> {
    try {
      this.db.prepare('SELECT MAX(rev) FROM jobs').get();
    } catch (error) {
      throw this.damage.found ?? error;
    }
    if (this.damage.found) throw this.damage.found;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private finish(
    containerName: string,
    state: 'Done' | 'Failed',
    at: Date,
    fields: { output: string | null; error: string | null },
  ): Promise<boolean> {
    const finishedAt = at.toISOString();
    return this.change(
      `state = ?, finished_at = ?, started_at = COALESCE(started_at, ?), output = ?, error = ?,
       progress = CASE WHEN ? = 'Done' THEN 1 ELSE progress END`,
      [state, finishedAt, finishedAt, fields.output, fields.error, state],
      'container_name = ?',
      containerName,
      statesBefore(state),
    );
  }

  /** One conditional UPDATE: applies only while the job is in one of `fromStates`. */
  private async change(
    set: string,
    setParams: unknown[],
    where: string,
    whereParams: unknown,
    fromStates: JobState[],
  ): Promise<boolean> {
    const sql = `UPDATE jobs SET ${set}, rev = ${NEXT_REV}
                 WHERE ${where} AND state IN (${placeholders(fromStates)})`;
    const whereValues = Array.isArray(whereParams) ? whereParams : [whereParams];
    return this.db.prepare(sql).run(...setParams, ...whereValues, ...fromStates).changes > 0;
  }
}
