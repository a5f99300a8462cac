import { MongoClient, type Collection, type Db, type Filter, type MongoClientOptions, type UpdateFilter } from 'mongodb';
import { DuplicateJobError } from '../domain/errors.js';
import { JOB_STATES, statesBefore, type Job, type JobState } from '../domain/job.js';
import type {
  ContainerArtifacts,
  JobPage,
  JobStore,
  ListQuery,
  Resources,
  UsageTotals,
} from '../domain/job-store.port.js';
import { databaseName, isCosmosDb, mongoClientOptions, retryThrottled } from './mongo-connection.js';
import { verifyIndexes } from './mongo-indexes.js';

type JobDocument = Omit<Job, 'id'> & { _id: string };
interface ArtifactsDocument extends ContainerArtifacts {
  _id: string;
}
interface CounterDocument {
  _id: string;
  value: number;
}

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

function toJob({ _id, ...rest }: JobDocument): Job {
  return { id: _id, ...rest };
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
 * store's; revisions come from a counter document. Every update uses classic update operators
 * ($set, $max, $setOnInsert, $inc): Cosmos documents those, and not pipeline-style updates.
 */
export class MongoJobStore implements JobStore {
  private constructor(
    private readonly client: MongoClient,
    private readonly jobs: Collection<JobDocument>,
    private readonly artifacts: Collection<ArtifactsDocument>,
    private readonly counters: Collection<CounterDocument>,
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
        db.collection<ArtifactsDocument>('artifacts'),
        db.collection<CounterDocument>('counters'),
      );
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  async insert(job: Job): Promise<Job> {
    const { id, ...rest } = job;
    const rev = await this.nextRev();
    // An upsert that only inserts: a retried insert of the same job is harmless.
    const result = await retryThrottled(() =>
      this.jobs.updateOne({ _id: id }, { $setOnInsert: { ...rest, rev } }, { upsert: true }),
    );
    if (result.upsertedCount === 0) throw new DuplicateJobError(id);
    return { ...job, rev };
  }

  async get(id: string): Promise<Job | null> {
    const doc = await retryThrottled(() => this.jobs.findOne({ _id: id }));
    return doc ? toJob(doc) : null;
  }

  async getByContainerName(containerName: string): Promise<Job | null> {
    const doc = await retryThrottled(() => this.jobs.findOne({ containerName }));
    return doc ? toJob(doc) : null;
  }

  async list({ state, limit, cursor }: ListQuery): Promise<JobPage> {
    const filter: Filter<JobDocument> = {};
    if (state) filter.state = state;
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
    const counter = await retryThrottled(() => this.counters.findOne({ _id: 'jobs' }));
    return counter?.value ?? 0;
  }

  async counts(): Promise<Record<JobState, number>> {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    const rows = await retryThrottled(() =>
      this.jobs.aggregate<{ _id: JobState; n: number }>([{ $group: { _id: '$state', n: { $sum: 1 } } }]).toArray(),
    );
    for (const row of rows) counts[row._id] = row.n;
    return counts;
  }

  async usageTotals(): Promise<UsageTotals> {
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
    const [row] = await retryThrottled(() =>
      this.jobs
        .aggregate<{ vcpu: number; gb: number }>([
          { $match: { finishedAt: { $ne: null }, cpu: { $ne: null }, $or: [{ dispatchedAt: { $ne: null } }, { startedAt: { $ne: null } }] } },
          { $project: { cpu: 1, memoryGb: 1, seconds } },
          { $group: { _id: null, vcpu: { $sum: { $multiply: ['$seconds', '$cpu'] } }, gb: { $sum: { $multiply: ['$seconds', '$memoryGb'] } } } },
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

  async markDispatched(id: string, at: Date, attempt: number, resources: Resources): Promise<boolean> {
    const update = { $set: { cpu: resources.cpu, memoryGb: resources.memoryGb, error: null }, $max: { attempts: attempt } };
    // The first dispatch time is kept: it is set only while still null.
    return this.changeFirstOrKeep(
      { _id: id, state: 'Pending' },
      { field: 'dispatchedAt', value: at.toISOString() },
      update,
    );
  }

  async noteDispatchError(id: string, attempt: number, error: string): Promise<boolean> {
    return this.change({ _id: id, state: 'Pending' }, { $set: { error }, $max: { attempts: attempt } });
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

  /**
   * A point read of the revision counter. Not the `ping` command: the Cosmos feature page does
   * not list it, and a read also proves the database and the credentials.
   */
  async ping(): Promise<void> {
    await this.counters.findOne({ _id: 'jobs' });
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
    return this.changeFirstOrKeep(
      { containerName, ...stateIn(statesBefore(state)) },
      { field: 'startedAt', value: finishedAt },
      { $set: set },
    );
  }

  /** One conditional update with the next revision: true when it changed the job. */
  private async change(filter: Filter<JobDocument>, update: UpdateFilter<JobDocument>, rev?: number): Promise<boolean> {
    const stamped = { ...update, $set: { ...update.$set, rev: rev ?? (await this.nextRev()) } } as UpdateFilter<JobDocument>;
    const result = await retryThrottled(() => this.jobs.updateOne(filter, stamped));
    return result.modifiedCount > 0;
  }

  /**
   * `update`, also setting `first.field` to `first.value` when that field is still null (SQL's
   * COALESCE without a pipeline update): first the update that sets it, on the condition that it
   * is null; if that matched nothing, the update without it. Each step is one atomic conditional
   * update, both under the same revision, and at most one of them applies.
   */
  private async changeFirstOrKeep(
    filter: Filter<JobDocument>,
    first: { field: 'dispatchedAt' | 'startedAt'; value: string },
    update: UpdateFilter<JobDocument>,
  ): Promise<boolean> {
    const rev = await this.nextRev();
    const setting = { ...update, $set: { ...update.$set, [first.field]: first.value } } as UpdateFilter<JobDocument>;
    if (await this.change({ ...filter, [first.field]: null } as Filter<JobDocument>, setting, rev)) return true;
    return this.change(filter, update, rev);
  }

  private async nextRev(): Promise<number> {
    const counter = await retryThrottled(() =>
      this.counters.findOneAndUpdate(
        { _id: 'jobs' },
        { $inc: { value: 1 } },
        { upsert: true, returnDocument: 'after' },
      ),
    );
    return counter!.value;
  }
}
