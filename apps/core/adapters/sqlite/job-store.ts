import { DuplicateJobError } from '../../domain/errors.js';
import { JOB_STATES, statesBefore, type AttemptRecord, type Job, type JobState, type RequeueOrigin } from '../../domain/job.js';
import { isNoChange, totalsChange, totalsOf, type RunningTotals } from '../../domain/running-totals.js';
import type {
  ContainerArtifacts,
  IdempotencyClaim,
  JobPage,
  JobStore,
  ListQuery,
  NextAttempt,
  Resources,
  UsageTotals,
} from '../../domain/job-store.port.js';
import { ReadMeter } from '../read-meter.js';
import type { SqliteConnection, SqliteDriverName, SqliteStatement } from './driver.js';
import { openSqlite, watchForDamage, type DamageWatch } from './open.js';

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
  output_json: string | null;
  requeue_of: string | null;
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
  kind TEXT NOT NULL DEFAULT 'default',
  output_json TEXT,
  requeue_of TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, id);
CREATE INDEX IF NOT EXISTS jobs_by_rev ON jobs(rev);
CREATE INDEX IF NOT EXISTS jobs_by_kind ON jobs(kind, id);
CREATE INDEX IF NOT EXISTS jobs_by_state_kind ON jobs(state, kind, id);
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
CREATE TABLE IF NOT EXISTS job_totals (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pending INTEGER NOT NULL,
  in_progress INTEGER NOT NULL,
  done INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  vcpu_seconds REAL NOT NULL,
  gb_seconds REAL NOT NULL
);
`;

// The running totals' row: its column for each state.
const COUNT_COLUMNS: Record<JobState, string> = { Pending: 'pending', InProgress: 'in_progress', Done: 'done', Failed: 'failed' };
const ADD_TO_TOTALS = `UPDATE job_totals SET ${JOB_STATES.map((state) => `${COUNT_COLUMNS[state]} = ${COUNT_COLUMNS[state]} + ?`).join(', ')},
  vcpu_seconds = vcpu_seconds + ?, gb_seconds = gb_seconds + ? WHERE id = 1`;

interface TotalsRow {
  pending: number;
  in_progress: number;
  done: number;
  failed: number;
  vcpu_seconds: number;
  gb_seconds: number;
}

// Columns added after the first release, for stores made before them. prior_vcpu_seconds and
// prior_gb_seconds are no longer written: the running totals (job_totals) replaced their sum.
const ADDED_COLUMNS: Record<string, string> = {
  prior_attempts: "TEXT NOT NULL DEFAULT '[]'",
  prior_vcpu_seconds: 'REAL NOT NULL DEFAULT 0',
  prior_gb_seconds: 'REAL NOT NULL DEFAULT 0',
  kind: "TEXT NOT NULL DEFAULT 'default'",
  output_json: 'TEXT',
  requeue_of: 'TEXT',
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
    outputJson: row.output_json ?? null,
    progress: row.progress,
    cpu: row.cpu,
    memoryGb: row.memory_gb,
    rev: row.rev,
    requeueOf: row.requeue_of ? (JSON.parse(row.requeue_of) as RequeueOrigin) : null,
  };
}

function* jobsOf(rows: Iterable<JobRow>): Generator<Job> {
  for (const row of rows) yield toJob(row);
}

function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

export interface SqliteJobStoreOptions {
  /** Default: the first driver that loads (driver-choice.ts). */
  driver?: SqliteDriverName;
}

/** The job store in one SQLite file, shared by the dashboard, the spawner and every worker. */
export class SqliteJobStore implements JobStore {
  private readonly db: SqliteConnection;
  private readonly damage: DamageWatch;
  /** Rows read by the reads below (npm run bench). */
  readonly reads = new ReadMeter();
  private readonly statements = new Map<string, SqliteStatement>();

  constructor(path: string, options: SqliteJobStoreOptions = {}) {
    this.db = openSqlite(path, options.driver);
    this.damage = watchForDamage(this.db, path);
    this.db.exec(SCHEMA);
    const present = new Set((this.sql('PRAGMA table_info(jobs)').all() as { name: string }[]).map((c) => c.name));
    for (const [column, definition] of Object.entries(ADDED_COLUMNS)) {
      if (!present.has(column)) this.db.exec(`ALTER TABLE jobs ADD COLUMN ${column} ${definition}`);
    }
    this.ensureTotals();
  }

  /**
   * A store made before the running totals were kept gets them once, from every job, under the
   * write lock, so no write lands between the count and the row (every later write keeps it).
   */
  private ensureTotals(): void {
    if (this.sql('SELECT 1 FROM job_totals WHERE id = 1').get()) return;
    this.db.immediateTransaction(() => {
      if (this.sql('SELECT 1 FROM job_totals WHERE id = 1').get()) return;
      const totals = totalsOf(jobsOf(this.sql('SELECT * FROM jobs').iterate() as IterableIterator<JobRow>));
      this.sql('INSERT INTO job_totals (id, pending, in_progress, done, failed, vcpu_seconds, gb_seconds) VALUES (1, ?, ?, ?, ?, ?, ?)').run(
        ...JOB_STATES.map((state) => totals.counts[state]),
        totals.vcpuSeconds,
        totals.gbSeconds,
      );
    });
  }

  async insert(job: Job): Promise<Job> {
    const inserted = this.db.immediateTransaction(() => {
      const row = this.sql(
        `INSERT INTO jobs (id, container_name, message, kind, state, enqueued_at, dispatched_at, started_at,
           finished_at, attempts, prior_attempts, error, output, progress, cpu, memory_gb, requeue_of, rev)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${NEXT_REV})
         ON CONFLICT DO NOTHING RETURNING *`,
      ).get(
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
        job.requeueOf ? JSON.stringify(job.requeueOf) : null,
      ) as JobRow | undefined;
      if (!row) return null;
      const saved = toJob(row);
      this.addToTotals(totalsChange(null, saved));
      return saved;
    });
    if (!inserted) throw new DuplicateJobError(job.id);
    return inserted;
  }

  async get(id: string): Promise<Job | null> {
    const row = this.sql('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return this.one(row);
  }

  async getByContainerName(containerName: string): Promise<Job | null> {
    const row = this.sql('SELECT * FROM jobs WHERE container_name = ?').get(containerName) as
      | JobRow
      | undefined;
    return this.one(row);
  }

  async list({ state, kind, limit, cursor }: ListQuery): Promise<JobPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (state) {
      where.push('state = ?');
      params.push(state);
    }
    if (kind) {
      where.push('kind = ?');
      params.push(kind);
    }
    if (cursor) {
      where.push('id < ?');
      params.push(cursor);
    }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY id DESC LIMIT ?`;
    const rows = this.reads.count(this.sql(sql).all(...params, limit + 1) as JobRow[]);
    const jobs = rows.slice(0, limit).map(toJob);
    return { jobs, next: rows.length > limit ? jobs[jobs.length - 1]!.id : null };
  }

  async changedSince(rev: number, limit: number): Promise<Job[]> {
    const rows = this.reads.count(
      this.sql('SELECT * FROM jobs WHERE rev > ? ORDER BY rev LIMIT ?').all(rev, limit) as JobRow[],
    );
    return rows.map(toJob);
  }

  async currentRev(): Promise<number> {
    const row = this.sql('SELECT COALESCE(MAX(rev), 0) AS rev FROM jobs').get() as { rev: number };
    // One entry of the revision index: the highest.
    this.reads.add(1);
    return row.rev;
  }

  async counts(): Promise<Record<JobState, number>> {
    return this.totals().counts;
  }

  /** Every ended attempt's billed units: kept as they end, so this reads one row. */
  async usageTotals(): Promise<UsageTotals> {
    const { vcpuSeconds, gbSeconds } = this.totals();
    return { vcpuSeconds, gbSeconds };
  }

  private totals(): RunningTotals {
    const row = this.sql('SELECT * FROM job_totals WHERE id = 1').get() as TotalsRow;
    this.reads.add(1);
    return {
      counts: Object.fromEntries(JOB_STATES.map((state) => [state, row[COUNT_COLUMNS[state] as keyof TotalsRow]])) as Record<JobState, number>,
      vcpuSeconds: row.vcpu_seconds,
      gbSeconds: row.gb_seconds,
    };
  }

  private addToTotals(change: RunningTotals): void {
    if (isNoChange(change)) return;
    this.sql(ADD_TO_TOTALS).run(...JOB_STATES.map((state) => change.counts[state]), change.vcpuSeconds, change.gbSeconds);
  }

  async listActive(): Promise<Job[]> {
    const rows = this.sql(
      `SELECT * FROM jobs WHERE state = 'InProgress' OR (state = 'Pending' AND dispatched_at IS NOT NULL)
       ORDER BY id`,
    ).all() as JobRow[];
    return this.reads.count(rows).map(toJob);
  }

  async markDispatched(containerName: string, attempt: number, at: Date, resources: Resources): Promise<boolean> {
    // In any state: the worker may have written InProgress, even Done, before this lands.
    return this.change(
      containerName,
      `dispatched_at = COALESCE(dispatched_at, ?), attempts = MAX(attempts, ?), cpu = COALESCE(cpu, ?),
       memory_gb = COALESCE(memory_gb, ?), error = CASE WHEN state = 'Pending' THEN NULL ELSE error END`,
      [at.toISOString(), attempt, resources.cpu, resources.memoryGb],
      { where: 'dispatched_at IS NULL', fromStates: [...JOB_STATES] },
    );
  }

  async noteDispatchError(containerName: string, error: string): Promise<boolean> {
    return this.change(containerName, 'error = ?', [error], { fromStates: ['Pending'], totalsUnchanged: true });
  }

  async beginRetry(containerName: string, next: NextAttempt): Promise<boolean> {
    return this.change(
      containerName,
      `prior_attempts = json_insert(prior_attempts, '$[#]', json(?)), container_name = ?, state = 'Pending', dispatched_at = NULL,
       started_at = NULL, finished_at = NULL, progress = NULL, cpu = NULL, memory_gb = NULL, output = NULL, error = ?`,
      [JSON.stringify(next.ended), next.containerName, next.ended.reason],
      { fromStates: statesBefore('Done') },
    );
  }

  async markStarted(containerName: string, at: Date): Promise<boolean> {
    return this.change(containerName, `state = 'InProgress', started_at = ?, progress = 0, error = NULL`, [at.toISOString()], {
      fromStates: statesBefore('InProgress'),
    });
  }

  async reportProgress(containerName: string, progress: number): Promise<boolean> {
    return this.change(containerName, 'progress = ?', [progress], {
      where: '(progress IS NULL OR progress < ?)',
      whereParams: [progress],
      fromStates: ['InProgress'],
      totalsUnchanged: true,
    });
  }

  async markDone(containerName: string, at: Date, output: string, outputJson: string | null = null): Promise<boolean> {
    return this.finish(containerName, 'Done', at, { output, outputJson, error: null });
  }

  async markFailed(containerName: string, at: Date, error: string): Promise<boolean> {
    return this.finish(containerName, 'Failed', at, { output: null, outputJson: null, error });
  }

  async saveArtifacts(containerName: string, artifacts: ContainerArtifacts): Promise<void> {
    this.sql(
      `INSERT INTO container_artifacts (container_name, logs, metrics) VALUES (?, ?, ?)
       ON CONFLICT (container_name) DO UPDATE SET logs = excluded.logs, metrics = excluded.metrics`,
    ).run(containerName, artifacts.logs, artifacts.metrics ? JSON.stringify(artifacts.metrics) : null);
  }

  async getArtifacts(containerName: string): Promise<ContainerArtifacts | null> {
    const row = this.sql('SELECT logs, metrics FROM container_artifacts WHERE container_name = ?').get(containerName) as
      | { logs: string; metrics: string | null }
      | undefined;
    return row ? { logs: row.logs, metrics: row.metrics ? JSON.parse(row.metrics) : null } : null;
  }

  async claimIdempotencyKey(claim: IdempotencyClaim, expiredBefore: Date): Promise<IdempotencyClaim> {
    return this.db.immediateTransaction(() => {
      // Forgetting every expired claim here keeps the table to one window of keys.
      this.sql('DELETE FROM idempotency_keys WHERE created_at < ?').run(expiredBefore.toISOString());
      this.sql('INSERT INTO idempotency_keys (key, fingerprint, job_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(
        claim.key,
        claim.fingerprint,
        claim.jobId,
        claim.createdAt,
      );
      const row = this.sql('SELECT * FROM idempotency_keys WHERE key = ?').get(claim.key) as {
        key: string;
        fingerprint: string;
        job_id: string;
        created_at: string;
      };
      return { key: row.key, fingerprint: row.fingerprint, jobId: row.job_id, createdAt: row.created_at };
    });
  }

  async releaseIdempotencyKey(key: string, jobId: string): Promise<void> {
    this.sql('DELETE FROM idempotency_keys WHERE key = ? AND job_id = ?').run(key, jobId);
  }

  private one(row: JobRow | undefined): Job | null {
    if (!row) return null;
    this.reads.add(1);
    return toJob(row);
  }

  /** A statement prepared once per store: preparing costs more than running most of these. */
  private sql(source: string): SqliteStatement {
    let statement = this.statements.get(source);
    if (!statement) {
      statement = this.db.prepare(source);
      this.statements.set(source, statement);
    }
    return statement;
  }

  /** Reads real pages (the revision index), and fails for good once damage has been seen. */
  async ping(): Promise<void> {
    try {
      this.sql('SELECT MAX(rev) FROM jobs').get();
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
    fields: { output: string | null; outputJson: string | null; error: string | null },
  ): Promise<boolean> {
    const finishedAt = at.toISOString();
    return this.change(
      containerName,
      `state = ?, finished_at = ?, started_at = COALESCE(started_at, ?), output = ?, output_json = ?, error = ?,
       progress = CASE WHEN ? = 'Done' THEN 1 ELSE progress END`,
      [state, finishedAt, finishedAt, fields.output, fields.outputJson, fields.error, state],
      { fromStates: statesBefore(state) },
    );
  }

  /**
   * One conditional UPDATE of the job named `containerName`: it applies only while the job is in
   * one of `fromStates` and meets `where`. The running totals move with it, in the same
   * transaction, by the difference between the job before and after (unless the change cannot
   * move them, as progress cannot).
   */
  private async change(containerName: string, set: string, setParams: unknown[], condition: ChangeCondition): Promise<boolean> {
    const { where, whereParams = [], fromStates, totalsUnchanged = false } = condition;
    const sql = `UPDATE jobs SET ${set}, rev = ${NEXT_REV}
                 WHERE container_name = ? ${where ? `AND ${where}` : ''} AND state IN (${placeholders(fromStates)})
                 RETURNING *`;
    const update = () => this.sql(sql).get(...setParams, containerName, ...whereParams, ...fromStates) as JobRow | undefined;
    if (totalsUnchanged) return update() !== undefined;
    return this.db.immediateTransaction(() => {
      const before = this.sql('SELECT * FROM jobs WHERE container_name = ?').get(containerName) as JobRow | undefined;
      const after = update();
      if (!before || !after) return false;
      this.addToTotals(totalsChange(toJob(before), toJob(after)));
      return true;
    });
  }
}

interface ChangeCondition {
  /** More of the WHERE clause than the container name and the states, with its parameters. */
  where?: string;
  whereParams?: unknown[];
  fromStates: JobState[];
  /** The change touches nothing the running totals count (progress, a dispatch error). */
  totalsUnchanged?: boolean;
}
