import { MongoClient, MongoServerError, type Collection, type Db, type Filter } from 'mongodb';
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
// Idempotency keys (branch inputs): see mongo-idempotency-keys.ts.
import type { IdempotencyClaim } from '../domain/job-store.port.js';
import { IDEMPOTENCY_COLLECTION, MongoIdempotencyKeys, type IdempotencyDocument } from './mongo-idempotency-keys.js';

type JobDocument = Omit<Job, 'id'> & { _id: string };
interface ArtifactsDocument extends ContainerArtifacts {
  _id: string;
}
interface CounterDocument {
  _id: string;
  value: number;
}

const DEFAULT_DATABASE = 'event-driven-aci';
// Cosmos DB answers 16500 (TooManyRequests) when a request exceeds the provisioned rate.
const THROTTLED = 16500;
const MAX_THROTTLE_RETRIES = 6;

/**
 * Options for a connection string as the store receives it. The worker's Cosmos string has
 * `ssl=true` removed (a contract kept from the original system), so TLS is turned on here for
 * any host that is not this machine, unless the string says otherwise itself. Everything else
 * in the string (retrywrites=false for Cosmos, replicaSet, …) is respected as given.
 */
export function mongoClientOptions(uri: string): { tls?: boolean } {
  const query = uri.split('?')[1] ?? '';
  const params = new URLSearchParams(query);
  if (params.has('tls') || params.has('ssl') || uri.startsWith('mongodb+srv://')) return {};
  const authority = uri.replace(/^mongodb:\/\//, '').split(/[/?]/)[0]!;
  const hosts = authority.slice(authority.lastIndexOf('@') + 1).split(',');
  const local = hosts.every((host) => /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host));
  return local ? {} : { tls: true };
}

function databaseName(uri: string): string {
  const path = uri.replace(/^mongodb(\+srv)?:\/\/[^/]*/, '').split('?')[0]!.replace(/^\//, '');
  return path || DEFAULT_DATABASE;
}

function toJob({ _id, ...rest }: JobDocument): Job {
  return { id: _id, ...rest };
}

/** Retries a Cosmos throttle with the backoff it asks for (RetryAfterMs), or exponential. */
export async function retryThrottled<T>(operation: () => Promise<T>, sleep = defaultSleep): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== THROTTLED || attempt >= MAX_THROTTLE_RETRIES) {
        throw error;
      }
      const asked = Number(/RetryAfterMs=(\d+)/.exec(error.message)?.[1]);
      await sleep(Number.isFinite(asked) && asked > 0 ? asked : 100 * 2 ** attempt);
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The job store in MongoDB (Cosmos DB for MongoDB on Azure). Transitions are conditional
 * updates on the current state, so they are idempotent and forward-only like the SQLite
 * store's; revisions come from a counter document.
 */
export class MongoJobStore implements JobStore {
  private constructor(
    private readonly client: MongoClient,
    private readonly jobs: Collection<JobDocument>,
    private readonly artifacts: Collection<ArtifactsDocument>,
    private readonly counters: Collection<CounterDocument>,
  ) {}

  /** Connects and creates the indexes before any write can happen. */
  static async connect(uri: string): Promise<MongoJobStore> {
    const client = new MongoClient(uri, { ...mongoClientOptions(uri), serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    const db: Db = client.db(databaseName(uri));
    const store = new MongoJobStore(
      client,
      db.collection<JobDocument>('jobs'),
      db.collection<ArtifactsDocument>('artifacts'),
      db.collection<CounterDocument>('counters'),
    );
    await retryThrottled(() => store.jobs.createIndex({ containerName: 1 }, { unique: true }));
    await retryThrottled(() => store.jobs.createIndex({ state: 1, _id: -1 }));
    await retryThrottled(() => store.jobs.createIndex({ rev: 1 }));
    return store;
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
    for (const state of JOB_STATES) {
      counts[state] = await retryThrottled(() => this.jobs.countDocuments({ state }));
    }
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
    return this.change({ _id: id, state: 'Pending' }, [
      {
        $set: {
          dispatchedAt: { $ifNull: ['$dispatchedAt', at.toISOString()] },
          attempts: { $max: ['$attempts', attempt] },
          cpu: resources.cpu,
          memoryGb: resources.memoryGb,
          error: null,
        },
      },
    ]);
  }

  async noteDispatchError(id: string, attempt: number, error: string): Promise<boolean> {
    return this.change({ _id: id, state: 'Pending' }, [
      { $set: { attempts: { $max: ['$attempts', attempt] }, error: { $literal: error } } },
    ]);
  }

  async markStarted(containerName: string, at: Date): Promise<boolean> {
    return this.change({ containerName, state: { $in: statesBefore('InProgress') } }, [
      { $set: { state: 'InProgress', startedAt: at.toISOString(), progress: 0, error: null } },
    ]);
  }

  async reportProgress(containerName: string, progress: number): Promise<boolean> {
    return this.change(
      { containerName, state: 'InProgress', $or: [{ progress: null }, { progress: { $lt: progress } }] },
      [{ $set: { progress } }],
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
      this.artifacts.replaceOne({ _id: containerName }, { ...artifacts }, { upsert: true }),
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

  async ping(): Promise<void> {
    await this.client.db('admin').command({ ping: 1 });
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
    return this.change({ containerName, state: { $in: statesBefore(state) } }, [
      {
        $set: {
          state,
          finishedAt,
          startedAt: { $ifNull: ['$startedAt', finishedAt] },
          output: fields.output === null ? null : { $literal: fields.output },
          error: fields.error === null ? null : { $literal: fields.error },
          ...(fields.progress === undefined ? {} : { progress: fields.progress }),
        },
      },
    ]);
  }

  /** A conditional update (an aggregation pipeline, so fields can depend on themselves). */
  private async change(filter: Filter<JobDocument>, pipeline: Record<string, unknown>[]): Promise<boolean> {
    const rev = await this.nextRev();
    const withRev = [...pipeline, { $set: { rev } }];
    const result = await retryThrottled(() => this.jobs.updateOne(filter, withRev));
    return result.modifiedCount > 0;
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
