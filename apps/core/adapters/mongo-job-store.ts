import { MongoClient, type ClientSession, type Collection, type Db, type Filter, type MongoClientOptions, type UpdateFilter } from 'mongodb';
import { DEFAULT_KIND } from '../domain/task-kind.js';
import { DuplicateJobError } from '../domain/errors.js';
import { JOB_STATES, statesBefore, type Job, type JobState } from '../domain/job.js';
import { billedUnits } from '../domain/pricing.js';
import type {
  ContainerArtifacts,
  JobPage,
  JobStore,
  ListQuery,
  NextAttempt,
  Resources,
  UsageTotals,
} from '../domain/job-store.port.js';
import { databaseName, isCosmosDb, mongoClientOptions, retryThrottled } from './mongo-connection.js';
import { verifyIndexes } from './mongo-indexes.js';
// Idempotency keys (branch inputs): see mongo-idempotency-keys.ts.
import type { IdempotencyClaim } from '../domain/job-store.port.js';
import { IDEMPOTENCY_COLLECTION, MongoIdempotencyKeys, type IdempotencyDocument } from './mongo-idempotency-keys.js';

/** A job as stored: what earlier attempts were billed is kept beside it, summed for usageTotals. */
type JobDocument = Omit<Job, 'id'> & { _id: string; priorVcpuSeconds?: number; priorGbSeconds?: number };
interface ArtifactsDocument extends ContainerArtifacts {
  _id: string;
}
/**
 * The revision counter: a document in `jobs`, so that taking a revision and writing the job with
 * it are one transaction (Cosmos runs a transaction within one collection only). It is not a
 * job: its own unique containerName, and no `state`, keep it out of every job query.
 */
interface RevisionDocument {
  _id: string;
  containerName: string;
  value: number;
}
const REVISION = '~revision';
/** What only jobs have, and the revision document has not. */
const IS_JOB = { state: { $exists: true } } as const;

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
  return { id: _id, ...rest, priorAttempts: rest.priorAttempts ?? [], kind: rest.kind ?? DEFAULT_KIND };
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
      return result.upsertedCount > 0;
    });
    if (rev === null) throw new DuplicateJobError(id);
    return { ...job, rev };
  }

  async get(id: string): Promise<Job | null> {
    const doc = await retryThrottled(() => this.jobs.findOne({ _id: id, ...IS_JOB }));
    return doc ? toJob(doc) : null;
  }

  async getByContainerName(containerName: string): Promise<Job | null> {
    const doc = await retryThrottled(() => this.jobs.findOne({ containerName, ...IS_JOB }));
    return doc ? toJob(doc) : null;
  }

  async list({ state, limit, cursor }: ListQuery): Promise<JobPage> {
    const filter: Filter<JobDocument> = state ? { state } : { ...IS_JOB };
    if (cursor) filter._id = { $lt: cursor };
    const docs = await retryThrottled(() =>
      this.jobs.find(filter).sort({ _id: -1 }).limit(limit + 1).toArray(),
    );
    const jobs = docs.slice(0, limit).map(toJob);
    return { jobs, next: docs.length > limit ? jobs[jobs.length - 1]!.id : null };
  }

  async changedSince(rev: number, limit: number): Promise<Job[]> {
    const docs = await retryThrottled(() =>
      this.jobs.find({ rev: { $gt: rev } }).sort({ rev: 1 }).limit(limit).toArray(),
    );
    return docs.map(toJob);
  }

  async currentRev(): Promise<number> {
    const counter = await retryThrottled(() => this.revisions.findOne({ _id: REVISION }));
    return counter?.value ?? 0;
  }

  async counts(): Promise<Record<JobState, number>> {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    const rows = await retryThrottled(() =>
      this.jobs.aggregate<{ _id: JobState; n: number }>([{ $match: IS_JOB }, { $group: { _id: '$state', n: { $sum: 1 } } }]).toArray(),
    );
    for (const row of rows) counts[row._id] = row.n;
    return counts;
  }

  async usageTotals(): Promise<UsageTotals> {
    // The current attempt, billed from dispatch (or start) to finish, each started second whole
    // (pricing.ts billedUnits); plus what earlier attempts were billed when they were retried.
    const seconds = {
      $max: [
        0,
        {
          $ceil: {
            $divide: [
              { $subtract: [{ $toDate: '$finishedAt' }, { $toDate: { $ifNull: ['$dispatchedAt', '$startedAt'] } }] },
              1000,
            ],
          },
        },
      ],
    };
    const billed = {
      $and: [{ $ne: ['$finishedAt', null] }, { $ne: ['$cpu', null] }, { $or: [{ $ne: ['$dispatchedAt', null] }, { $ne: ['$startedAt', null] }] }],
    };
    const units = (perSecond: string, prior: string) => ({
      $add: [{ $ifNull: [prior, 0] }, { $cond: [billed, { $multiply: [seconds, perSecond] }, 0] }],
    });
    const [row] = await retryThrottled(() =>
      this.jobs
        .aggregate<{ vcpu: number; gb: number }>([
          { $match: IS_JOB },
          { $project: { vcpu: units('$cpu', '$priorVcpuSeconds'), gb: units('$memoryGb', '$priorGbSeconds') } },
          { $group: { _id: null, vcpu: { $sum: '$vcpu' }, gb: { $sum: '$gb' } } },
        ])
        .toArray(),
    );
    return { vcpuSeconds: row?.vcpu ?? 0, gbSeconds: row?.gb ?? 0 };
  }

  async listActive(): Promise<Job[]> {
    const docs = await retryThrottled(() =>
      this.jobs
        .find({ $or: [{ state: 'InProgress' }, { state: 'Pending', dispatchedAt: { $ne: null } }] })
        .sort({ _id: 1 })
        .toArray(),
    );
    return docs.map(toJob);
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
    return this.change({ containerName, state: 'Pending' }, { $set: { error } });
  }

  async beginRetry(containerName: string, next: NextAttempt): Promise<boolean> {
    const units = billedUnits(next.ended);
    return this.change(
      { containerName, ...stateIn(statesBefore('Done')) },
      {
        $push: { priorAttempts: next.ended },
        $inc: { priorVcpuSeconds: units?.vcpuSeconds ?? 0, priorGbSeconds: units?.gbSeconds ?? 0 },
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
    );
  }

  async markDone(containerName: string, at: Date, output: string): Promise<boolean> {
    return this.finish(containerName, 'Done', at, { output, error: null, progress: 1 });
  }

  async markFailed(containerName: string, at: Date, error: string): Promise<boolean> {
    return this.finish(containerName, 'Failed', at, { output: null, error });
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

  // ---- Idempotency keys (branch inputs): the logic lives in mongo-idempotency-keys.ts ----
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
    fields: { output: string | null; error: string | null; progress?: number },
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
  private change(filter: Filter<JobDocument>, update: UpdateFilter<JobDocument>): Promise<boolean> {
    return this.changeFirstMatching(filter, [{ when: {}, update }]);
  }

  /**
   * A conditional update whose fields depend on the job's own (SQL's COALESCE and CASE, without a
   * pipeline update): the variants are tried in order, each one atomic conditional update on
   * `filter` and its own condition, all under one revision, until one applies. Their conditions
   * exclude each other for the job as it was, so at most one applies.
   */
  private async changeFirstMatching(filter: Filter<JobDocument>, variants: Variant[]): Promise<boolean> {
    const rev = await this.withRevision(async (rev, session) => {
      for (const { when, update } of variants) {
        const stamped = { ...update, $set: { ...update.$set, rev } } as UpdateFilter<JobDocument>;
        const result = await this.jobs.updateOne({ ...filter, ...when } as Filter<JobDocument>, stamped, { session });
        if (result.modifiedCount > 0) return true;
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
    return retryThrottled(async () => {
      if (!this.transactions) {
        const rev = await this.nextRev();
        return (await write(rev)) ? rev : null;
      }
      return this.client.withSession(async (session) => {
        let outcome: number | null = null;
        await session.withTransaction(async () => {
          const rev = await this.nextRev(session);
          outcome = (await write(rev, session)) ? rev : null;
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
