import { MongoClient, type ClientSession, type Collection, type Db, type Filter, type MongoClientOptions, type UpdateFilter } from 'mongodb';
import { DEFAULT_KIND } from '../../domain/task-kind.js';
import { DuplicateJobError } from '../../domain/errors.js';
import { JOB_STATES, statesBefore, type Job, type JobState } from '../../domain/job.js';
import { isNoChange, totalsChange, totalsOf, type RunningTotals } from '../../domain/running-totals.js';
import type {
  ContainerArtifacts,
  JobPage,
  JobStore,
  ListQuery,
  NextAttempt,
  Resources,
  UsageTotals,
} from '../../domain/job-store.port.js';
import { databaseName, isCosmosDb, mongoClientOptions, retryThrottled } from './connection.js';
import { verifyIndexes } from './indexes.js';
import { ReadMeter } from '../read-meter.js';
// Idempotency keys (branch inputs): see idempotency-keys.ts.
import type { IdempotencyClaim } from '../../domain/job-store.port.js';
import { IDEMPOTENCY_COLLECTION, MongoIdempotencyKeys, type IdempotencyDocument } from './idempotency-keys.js';

/** A job as stored (one written before the running totals may still carry what its earlier attempts were billed). */
type JobDocument = Omit<Job, 'id'> & { _id: string; priorVcpuSeconds?: number; priorGbSeconds?: number };
interface ArtifactsDocument extends ContainerArtifacts {
  _id: string;
}
/**
 * The revision counter: a document in `jobs`, so that taking a revision and writing the job with
 * it are one transaction (Cosmos runs a transaction within one collection only). It is not a
 * job: its own unique containerName, and no `state`, keep it out of every job query. It also
 * holds the running totals, changed in the same transaction as each job write that moves them.
 */
interface RevisionDocument {
  _id: string;
  containerName: string;
  value: number;
  /** Absent in a store written before they were kept, until a reader counts them once. */
  totals?: RunningTotals;
}
const REVISION = '~revision';
/** What only jobs have, and the revision document has not. */
const IS_JOB = { state: { $exists: true } } as const;
/** The fields the running totals are counted from, for the one count a store made before them needs. */
const COUNTED_FIELDS = { state: 1, dispatchedAt: 1, startedAt: 1, finishedAt: 1, cpu: 1, memoryGb: 1, priorAttempts: 1 } as const;
// Counting a whole store for its totals, while writes keep landing, is tried this often before
// a reader makes do with the count it made (it is right as of its own reading).
const TOTALS_COUNT_TRIES = 3;

export interface MongoJobStoreOptions {
  /**
   * Check the indexes the store relies on before the first write (default true). Who checks:
   * the dashboard and the local stack, which insert the jobs (the unique containerName index
   * guards them) and sort by rev. The worker and the spawner pass false: a worker starts per task
   * and the spawner at every cold start, on Cosmos DB every command costs request units, and
   * neither sorts on anything but `_id` (the spawner's one insert, a poison record, has an id
   * taken from its message, which `_id` guards).
   */
  verifyIndexes?: boolean;
  /** Driver options added to the ones the string implies (a test's DNS lookup and CA). */
  clientOptions?: MongoClientOptions;
}

function toJob({ _id, priorVcpuSeconds, priorGbSeconds, ...rest }: JobDocument): Job {
  // Jobs stored before attempts and kinds existed have neither.
  // Jobs finished before outputJson was kept have none.
  return { id: _id, ...rest, priorAttempts: rest.priorAttempts ?? [], kind: rest.kind ?? DEFAULT_KIND, outputJson: rest.outputJson ?? null, requeueOf: rest.requeueOf ?? null };
}

interface ChangeOptions {
  /** The change touches nothing the running totals count (progress, a dispatch error). */
  totalsUnchanged?: boolean;
}

/** One way to apply a change: the extra condition it needs, and what it then sets. */
interface Variant {
  when: Filter<JobDocument>;
  update: UpdateFilter<JobDocument>;
}

/**
 * A filter for "state is one of these". Equality under `$or`, not `$in`: the Cosmos feature
 * page does not support comparison expressions with an array literal in the query
 * (docs/cosmos.md), and equality needs no reading of that note.
 */
function stateIn(states: readonly JobState[]): Filter<JobDocument> {
  return states.length === 1 ? { state: states[0]! } : { $or: states.map((state) => ({ state })) };
}

/**
 * The job store in MongoDB (Cosmos DB for MongoDB on Azure). Transitions are conditional
 * updates on the current state, so they are idempotent and forward-only like the SQLite
 * store's. Each write takes its revision from a counter document in `jobs` in the same
 * transaction (withRevision). Every update uses classic update operators ($set, $max,
 * $setOnInsert, $inc, $push): Cosmos documents those, not pipeline-style updates.
 */
export class MongoJobStore implements JobStore {
  /** Documents read by the reads below (npm run bench). */
  readonly reads = new ReadMeter();

  private constructor(
    private readonly client: MongoClient,
    private readonly jobs: Collection<JobDocument>,
    private readonly revisions: Collection<RevisionDocument>,
    private readonly artifacts: Collection<ArtifactsDocument>,
    /** False only on a standalone MongoDB, which runs no transactions (local development). */
    private readonly transactions: boolean,
  ) {}

  /** Connects and, unless told not to, checks the indexes before any write can happen. */
  static async connect(uri: string, options: MongoJobStoreOptions = {}): Promise<MongoJobStore> {
    const client = new MongoClient(uri, {
      ...mongoClientOptions(uri),
      serverSelectionTimeoutMS: 10_000,
      ...options.clientOptions,
    });
    await client.connect();
    try {
      const db: Db = client.db(databaseName(uri));
      if (options.verifyIndexes ?? true) await verifyIndexes(db, { mayCreate: !isCosmosDb(uri) });
      return new MongoJobStore(
        client,
        db.collection<JobDocument>('jobs'),
        db.collection<RevisionDocument>('jobs'),
        db.collection<ArtifactsDocument>('artifacts'),
        isCosmosDb(uri) || (await runsTransactions(client)),
      );
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  async insert(job: Job): Promise<Job> {
    const { id, ...rest } = job;
    // An upsert that only inserts: a retried insert of the same job is harmless.
    const rev = await this.withRevision(async (rev, session) => {
      const result = await this.jobs.updateOne({ _id: id }, { $setOnInsert: { ...rest, rev } }, { upsert: true, session });
      if (result.upsertedCount === 0) return false;
      await this.addToTotals(totalsChange(null, job), session);
      return true;
    });
    if (rev === null) throw new DuplicateJobError(id);
    return { ...job, rev };
  }

  async get(id: string): Promise<Job | null> {
    const doc = await retryThrottled(() => this.jobs.findOne({ _id: id, ...IS_JOB }));
    return this.one(doc);
  }

  async getByContainerName(containerName: string): Promise<Job | null> {
    const doc = await retryThrottled(() => this.jobs.findOne({ containerName, ...IS_JOB }));
    return this.one(doc);
  }

  async list({ state, kind, limit, cursor }: ListQuery): Promise<JobPage> {
    const filter: Filter<JobDocument> = state ? { state } : { ...IS_JOB };
    // A job stored before kinds existed has no kind field and is a `default` one (toJob).
    // ($or, not $in: Cosmos's feature page refuses an array literal in a comparison.)
    if (kind === DEFAULT_KIND) filter.$or = [{ kind }, { kind: null } as unknown as Filter<JobDocument>];
    else if (kind) filter.kind = kind;
    if (cursor) filter._id = { $lt: cursor };
    const docs = this.reads.count(await retryThrottled(() => this.jobs.find(filter).sort({ _id: -1 }).limit(limit + 1).toArray()));
    const jobs = docs.slice(0, limit).map(toJob);
    return { jobs, next: docs.length > limit ? jobs[jobs.length - 1]!.id : null };
  }

  async changedSince(rev: number, limit: number): Promise<Job[]> {
    const docs = this.reads.count(await retryThrottled(() => this.jobs.find({ rev: { $gt: rev } }).sort({ rev: 1 }).limit(limit).toArray()));
    return docs.map(toJob);
  }

  async currentRev(): Promise<number> {
    const counter = await retryThrottled(() => this.revisions.findOne({ _id: REVISION }));
    if (counter) this.reads.add(1);
    return counter?.value ?? 0;
  }

  async counts(): Promise<Record<JobState, number>> {
    return (await this.totals()).counts;
  }

  /** Every ended attempt's billed units: kept as they end, so this reads one document. */
  async usageTotals(): Promise<UsageTotals> {
    const { vcpuSeconds, gbSeconds } = await this.totals();
    return { vcpuSeconds, gbSeconds };
  }

  private async totals(): Promise<RunningTotals> {
    const counter = await retryThrottled(() => this.revisions.findOne({ _id: REVISION }));
    if (counter) this.reads.add(1);
    return counter?.totals ?? this.countTotals();
  }

  /**
   * The running totals of a store written before they were kept: every job counted once, outside
   * a transaction (on Cosmos one lasts 5 seconds at most, and a count of a large store may not),
   * then saved in a short one only if no job was written meanwhile: each write in a transaction
   * moves the revision counter, so an unmoved counter means the count saw every write. Until they
   * are saved, writes leave them alone (addToTotals), so nothing is counted twice.
   */
  private async countTotals(): Promise<RunningTotals> {
    let counted: RunningTotals | null = null;
    for (let i = 0; i < TOTALS_COUNT_TRIES; i++) {
      const mark = (await retryThrottled(() => this.revisions.findOne({ _id: REVISION })))?.value ?? 0;
      const jobs = await retryThrottled(() => this.jobs.find(IS_JOB, { projection: COUNTED_FIELDS }).toArray());
      this.reads.add(jobs.length + 1);
      const totals = totalsOf(jobs.map((doc) => toJob(doc as JobDocument)));
      counted = totals;
      const saved = await this.inTransaction(async (session) => {
        const counter = await this.revisions.findOne({ _id: REVISION }, { session });
        if (counter?.totals) return counter.totals;
        if ((counter?.value ?? 0) !== mark) return null;
        await this.revisions.updateOne({ _id: REVISION }, { $set: { totals }, $setOnInsert: { containerName: REVISION, value: 0 } }, { upsert: true, session });
        return totals;
      });
      if (saved) return saved;
    }
    return counted!;
  }

  /** Moves the running totals by `change`, in the write's transaction; nothing until they exist. */
  private async addToTotals(change: RunningTotals, session?: ClientSession): Promise<void> {
    if (isNoChange(change)) return;
    const increments: Record<string, number> = { 'totals.vcpuSeconds': change.vcpuSeconds, 'totals.gbSeconds': change.gbSeconds };
    for (const state of JOB_STATES) increments[`totals.counts.${state}`] = change.counts[state];
    await this.revisions.updateOne({ _id: REVISION, totals: { $exists: true } }, { $inc: increments }, { session });
  }

  async listActive(): Promise<Job[]> {
    const docs = await retryThrottled(() =>
      this.jobs
        .find({ $or: [{ state: 'InProgress' }, { state: 'Pending', dispatchedAt: { $ne: null } }] })
        .sort({ _id: 1 })
        .toArray(),
    );
    return this.reads.count(docs).map(toJob);
  }

  async markDispatched(containerName: string, attempt: number, at: Date, resources: Resources): Promise<boolean> {
    // In any state (the worker may have written first), once per attempt: while dispatchedAt is
    // null. The resources are kept if already set; the dispatch error is cleared while Pending.
    const dispatched = { dispatchedAt: at.toISOString() };
    const given = { cpu: resources.cpu, memoryGb: resources.memoryGb };
    const attempts = { attempts: attempt };
    return this.changeFirstMatching({ containerName, dispatchedAt: null }, [
      { when: { state: 'Pending', cpu: null }, update: { $set: { ...dispatched, ...given, error: null }, $max: attempts } },
      { when: { state: 'Pending' }, update: { $set: { ...dispatched, error: null }, $max: attempts } },
      { when: { cpu: null }, update: { $set: { ...dispatched, ...given }, $max: attempts } },
      { when: {}, update: { $set: dispatched, $max: attempts } },
    ]);
  }

  async noteDispatchError(containerName: string, error: string): Promise<boolean> {
    return this.change({ containerName, state: 'Pending' }, { $set: { error } }, { totalsUnchanged: true });
  }

  async beginRetry(containerName: string, next: NextAttempt): Promise<boolean> {
    return this.change(
      { containerName, ...stateIn(statesBefore('Done')) },
      {
        $push: { priorAttempts: next.ended },
        $set: {
          containerName: next.containerName,
          state: 'Pending',
          dispatchedAt: null,
          startedAt: null,
          finishedAt: null,
          progress: null,
          cpu: null,
          memoryGb: null,
          output: null,
          error: next.ended.reason,
        },
      },
    );
  }

  async markStarted(containerName: string, at: Date): Promise<boolean> {
    return this.change(
      { containerName, ...stateIn(statesBefore('InProgress')) },
      { $set: { state: 'InProgress', startedAt: at.toISOString(), progress: 0, error: null } },
    );
  }

  async reportProgress(containerName: string, progress: number): Promise<boolean> {
    return this.change(
      { containerName, state: 'InProgress', $or: [{ progress: null }, { progress: { $lt: progress } }] },
      { $set: { progress } },
      { totalsUnchanged: true },
    );
  }

  async markDone(containerName: string, at: Date, output: string, outputJson: string | null = null): Promise<boolean> {
    return this.finish(containerName, 'Done', at, { output, outputJson, error: null, progress: 1 });
  }

  async markFailed(containerName: string, at: Date, error: string): Promise<boolean> {
    return this.finish(containerName, 'Failed', at, { output: null, outputJson: null, error });
  }

  async saveArtifacts(containerName: string, artifacts: ContainerArtifacts): Promise<void> {
    await retryThrottled(() =>
      this.artifacts.updateOne(
        { _id: containerName },
        { $set: { logs: artifacts.logs, metrics: artifacts.metrics } },
        { upsert: true },
      ),
    );
  }

  async getArtifacts(containerName: string): Promise<ContainerArtifacts | null> {
    const doc = await retryThrottled(() => this.artifacts.findOne({ _id: containerName }));
    return doc ? { logs: doc.logs, metrics: doc.metrics } : null;
  }

  // ---- Idempotency keys (branch inputs): the logic lives in idempotency-keys.ts ----
  async claimIdempotencyKey(claim: IdempotencyClaim, expiredBefore: Date): Promise<IdempotencyClaim> {
    return this.idempotencyKeys().claim(claim, expiredBefore);
  }

  async releaseIdempotencyKey(key: string, jobId: string): Promise<void> {
    await this.idempotencyKeys().release(key, jobId);
  }

  private idempotencyKeys(): MongoIdempotencyKeys {
    const keys = this.client.db(this.jobs.dbName).collection<IdempotencyDocument>(IDEMPOTENCY_COLLECTION);
    return new MongoIdempotencyKeys(keys, retryThrottled);
  }
  // ---- end of idempotency keys ----

  private one(doc: JobDocument | null): Job | null {
    if (!doc) return null;
    this.reads.add(1);
    return toJob(doc);
  }

  /**
   * A point read of the revision counter. Not the `ping` command: the Cosmos feature page does
   * not list it, and a read also proves the database and the credentials.
   */
  async ping(): Promise<void> {
    await this.revisions.findOne({ _id: REVISION });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private finish(
    containerName: string,
    state: 'Done' | 'Failed',
    at: Date,
    fields: { output: string | null; outputJson: string | null; error: string | null; progress?: number },
  ): Promise<boolean> {
    const finishedAt = at.toISOString();
    const set = { state, finishedAt, ...fields };
    // A job failed before it started gets startedAt = finishedAt, as the SQLite store's COALESCE.
    return this.changeFirstMatching({ containerName, ...stateIn(statesBefore(state)) }, [
      { when: { startedAt: null }, update: { $set: { ...set, startedAt: finishedAt } } },
      { when: {}, update: { $set: set } },
    ]);
  }

  /** One conditional update with the next revision: true when it changed the job. */
  private change(filter: Filter<JobDocument>, update: UpdateFilter<JobDocument>, options: ChangeOptions = {}): Promise<boolean> {
    return this.changeFirstMatching(filter, [{ when: {}, update }], options);
  }

  /**
   * A conditional update whose fields depend on the job's own (SQL's COALESCE and CASE, without a
   * pipeline update): the variants are tried in order, each one atomic conditional update on
   * `filter` and its own condition, all under one revision, until one applies. Their conditions
   * exclude each other for the job as it was, so at most one applies. The running totals move by
   * the difference between the job before and after, in the same transaction: the update returns
   * the job as it was, and a read by `_id` the job as it is.
   */
  private async changeFirstMatching(filter: Filter<JobDocument>, variants: Variant[], { totalsUnchanged = false }: ChangeOptions = {}): Promise<boolean> {
    const rev = await this.withRevision(async (rev, session) => {
      for (const { when, update } of variants) {
        const stamped = { ...update, $set: { ...update.$set, rev } } as UpdateFilter<JobDocument>;
        const query = { ...filter, ...when } as Filter<JobDocument>;
        if (totalsUnchanged) {
          if ((await this.jobs.updateOne(query, stamped, { session })).modifiedCount > 0) return true;
          continue;
        }
        const before = await this.jobs.findOneAndUpdate(query, stamped, { session, returnDocument: 'before' });
        if (!before) continue;
        const after = await this.jobs.findOne({ _id: before._id }, { session });
        await this.addToTotals(totalsChange(toJob(before), toJob(after!)), session);
        return true;
      }
      return false;
    });
    return rev !== null;
  }

  /**
   * Takes the next revision and runs `write` with it, in one transaction: a reader that has
   * seen revision n has seen every write with a revision below n, since two writers both
   * increment the revision document, and the later one waits for (or retries after) the first
   * to commit. Returns the revision, or null when `write` changed nothing (then nothing is kept).
   */
  private async withRevision(write: (rev: number, session?: ClientSession) => Promise<boolean>): Promise<number | null> {
    return this.inTransaction(async (session) => {
      const rev = await this.nextRev(session);
      return (await write(rev, session)) ? rev : null;
    });
  }

  /**
   * Runs `work` in one transaction, retried as the driver retries a transient conflict; a null
   * outcome aborts it (nothing to keep). A standalone MongoDB runs no transactions: there `work`
   * runs as separate commands.
   */
  private async inTransaction<T>(work: (session?: ClientSession) => Promise<T | null>): Promise<T | null> {
    return retryThrottled(async () => {
      if (!this.transactions) return work();
      return this.client.withSession(async (session) => {
        let outcome: T | null = null;
        await session.withTransaction(async () => {
          outcome = await work(session);
          // Nothing to keep: the revision is given back, and no reader waits for it.
          if (outcome === null) await session.abortTransaction();
        });
        return outcome;
      });
    });
  }

  private async nextRev(session?: ClientSession): Promise<number> {
    const counter = await this.revisions.findOneAndUpdate(
      { _id: REVISION },
      { $inc: { value: 1 }, $setOnInsert: { containerName: REVISION } },
      { upsert: true, returnDocument: 'after', session },
    );
    if (counter!.value !== 1) return counter!.value;
    // The document was just made: a store whose revisions were counted elsewhere before goes on
    // above its highest one, so that no reader's mark is ahead of the new revisions.
    const [latest] = await this.jobs.find({ rev: { $gt: 0 } }, { session }).sort({ rev: -1 }).limit(1).toArray();
    if (!latest) return 1;
    await this.revisions.updateOne({ _id: REVISION }, { $set: { value: latest.rev + 1 } }, { session });
    return latest.rev + 1;
  }
}

/** Whether the server runs transactions: a replica set member or mongos, not a standalone. */
async function runsTransactions(client: MongoClient): Promise<boolean> {
  const hello = await client.db('admin').command({ hello: 1 });
  return Boolean(hello.setName) || hello.msg === 'isdbgrid';
}
