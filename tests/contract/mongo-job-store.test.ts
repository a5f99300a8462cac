import { MongoClient, MongoServerError } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoClientOptions, retryThrottled } from '../../apps/core/adapters/mongo/connection.js';
import { JOB_STORE_INDEXES } from '../../apps/core/store-schema/indexes.js';
import { MongoJobStore } from '../../apps/core/adapters/mongo/job-store.js';
import { containerNameFor } from '../../apps/core/domain/container-name.js';
import { newPendingJob } from '../../apps/core/domain/job.js';
import { newJobId } from '../../apps/core/domain/job-id.js';
import { COSMOS_SERVER_VERSION } from '../../components/database.js';
import { WireStandIn } from '../fakes/mongo-wire/stand-in.js';
import { checkCommands, featurePage } from './cosmos-feature-check.js';
import { jobStoreContract } from './job-store.contract.js';

function uniqueDatabase(): string {
  return `eda-test-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}

// A real server when MONGODB_URI names one (none can run on the development machine or in CI).
const uri = process.env.MONGODB_URI;
if (uri) {
  jobStoreContract('MongoJobStore on a MongoDB server', async () => {
    const dbUri = uri.replace(/(mongodb(\+srv)?:\/\/[^/?]*)(\/[^?]*)?/, `$1/${uniqueDatabase()}`);
    const store = await MongoJobStore.connect(dbUri);
    return { store, uri: dbUri, cleanup: () => store.close() };
  });
} else {
  console.warn('MongoJobStore contract on a real server NOT run: set MONGODB_URI to a MongoDB server to run it');
}

// Always: the same contract through the real driver against the wire stand-in (tests/fakes),
// as a plain MongoDB on this machine (the store creates its indexes). The stand-in answers from
// an in-memory model: this proves what the store sends and that its logic holds on MongoDB's
// semantics as modelled, not what Cosmos DB answers.
const standIn = new WireStandIn({ serverVersion: COSMOS_SERVER_VERSION });
const started = standIn.start();
afterAll(() => standIn.close());

jobStoreContract('MongoJobStore through the wire stand-in', async () => {
  await started;
  const dbUri = `mongodb://127.0.0.1:${standIn.port}/${uniqueDatabase()}`;
  const store = await MongoJobStore.connect(dbUri);
  return { store, uri: dbUri, cleanup: () => store.close() };
});

describe('MongoJobStore running totals', () => {
  it('counts them once, from every job, in a store written before they were kept, and never twice', async () => {
    await started;
    const dbUri = `mongodb://127.0.0.1:${standIn.port}/${uniqueDatabase()}`;
    const store = await MongoJobStore.connect(dbUri);
    const raw = new MongoClient(dbUri);
    try {
      const t0 = Date.parse('2026-01-01T00:00:00.000Z');
      const jobs = [];
      for (let i = 0; i < 3; i++) {
        const id = newJobId();
        jobs.push(await store.insert(newPendingJob(id, containerNameFor(id), `m${i}`, new Date(t0))));
      }
      expect(await store.counts()).toEqual({ Pending: 3, InProgress: 0, Done: 0, Failed: 0 });
      await store.markDispatched(jobs[0]!.containerName, 1, new Date(t0), { cpu: 1, memoryGb: 2 });
      await store.markStarted(jobs[1]!.containerName, new Date(t0));
      // As a store written by the version before: a revision counter without totals. A write
      // meanwhile leaves them alone; the first read counts every job, this one's change included.
      await raw.db().collection<{ _id: string }>('jobs').updateOne({ _id: '~revision' }, { $unset: { totals: '' } });
      await store.markDone(jobs[0]!.containerName, new Date(t0 + 2500), 'out');
      expect(await store.counts()).toEqual({ Pending: 1, InProgress: 1, Done: 1, Failed: 0 });
      expect(await store.usageTotals()).toEqual({ vcpuSeconds: 3, gbSeconds: 6 });
      await store.markFailed(jobs[1]!.containerName, new Date(t0 + 1000), 'x');
      expect(await store.counts()).toEqual({ Pending: 1, InProgress: 0, Done: 1, Failed: 1 });
    } finally {
      await raw.close();
      await store.close();
    }
  });
});

describe('MongoJobStore kinds', () => {
  it('lists a job stored before kinds existed (no kind field) as a default one', async () => {
    await started;
    const dbUri = `mongodb://127.0.0.1:${standIn.port}/${uniqueDatabase()}`;
    const store = await MongoJobStore.connect(dbUri);
    const raw = new MongoClient(dbUri);
    try {
      const ids = [newJobId(), newJobId(), newJobId()];
      await store.insert(newPendingJob(ids[0]!, containerNameFor(ids[0]!), 'old', new Date()));
      await store.insert(newPendingJob(ids[1]!, containerNameFor(ids[1]!), 'new', new Date()));
      await store.insert(newPendingJob(ids[2]!, containerNameFor(ids[2]!), 'words', new Date(), 'wordcount'));
      await raw.db().collection<{ _id: string }>('jobs').updateOne({ _id: ids[0]! }, { $unset: { kind: '' } });
      expect((await store.list({ limit: 10, kind: 'default' })).jobs.map((j) => j.id)).toEqual([ids[1], ids[0]]);
      expect((await store.list({ limit: 10, kind: 'default', state: 'Pending' })).jobs.map((j) => j.id)).toEqual([ids[1], ids[0]]);
      expect((await store.list({ limit: 10, kind: 'wordcount' })).jobs.map((j) => j.id)).toEqual([ids[2]]);
    } finally {
      await raw.close();
      await store.close();
    }
  });
});

describe('what the contract run sent through the stand-in', () => {
  it('created the missing indexes itself, this being a plain MongoDB on this machine', () => {
    const created = standIn.commands.filter((c) => c.name === 'createIndexes').flatMap((c) => c.body.indexes as { key: object; unique?: boolean }[]);
    expect(created).toContainEqual(expect.objectContaining({ key: { containerName: 1 }, unique: true }));
    expect(created).toContainEqual(expect.objectContaining({ key: { state: 1, _id: 1 } }));
    expect(created).toContainEqual(expect.objectContaining({ key: { rev: 1 } }));
  });

  it('used only commands, operators and update forms on the Cosmos feature page, and indexed sorts', () => {
    expect(standIn.operations().length).toBeGreaterThan(100);
    expect(checkCommands(standIn.commands, JOB_STORE_INDEXES, featurePage(COSMOS_SERVER_VERSION))).toEqual([]);
  });
});

describe('MongoJobStore connection options', () => {
  it('turns TLS on for a remote host whose string lost ssl=true, keeping the other parameters', () => {
    const cosmos =
      'mongodb://acct:key@acct.mongo.cosmos.azure.com:10255/?replicaSet=globaldb&retrywrites=false&maxIdleTimeMS=120000';
    expect(mongoClientOptions(cosmos)).toEqual({ tls: true });
  });
  it('leaves TLS as the string says when it says', () => {
    expect(mongoClientOptions('mongodb://h.example.com:10255/?ssl=true')).toEqual({});
    expect(mongoClientOptions('mongodb://h.example.com/?tls=false')).toEqual({});
    expect(mongoClientOptions('mongodb+srv://u:p@cluster.example.net/db')).toEqual({});
  });
  it('does not force TLS on this machine', () => {
    expect(mongoClientOptions('mongodb://localhost:27017/jobs')).toEqual({});
    expect(mongoClientOptions('mongodb://u:p@127.0.0.1:27017,[::1]:27018/?replicaSet=rs')).toEqual({});
  });
});

describe('retryThrottled', () => {
  const throttled = (message: string) => new MongoServerError({ code: 16500, errmsg: message, ok: 0 } as never);

  it('waits as long as Cosmos asks, then succeeds', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await retryThrottled(async () => {
      if (++calls < 3) throw throttled('Request rate is large. RetryAfterMs=42, Details=...');
      return 'ok';
    }, async (ms) => void waits.push(ms));
    expect(result).toBe('ok');
    expect(waits).toEqual([42, 42]);
  });

  it('gives up after its retries and passes any other error through at once', async () => {
    const waits: number[] = [];
    await expect(retryThrottled(async () => { throw throttled('no hint'); }, async (ms) => void waits.push(ms))).rejects.toMatchObject({ code: 16500 });
    expect(waits).toEqual([100, 200, 400, 800, 1600, 3200]);
    await expect(retryThrottled(async () => { throw new Error('other'); }, async () => { throw new Error('must not wait'); })).rejects.toThrow('other');
  });
});
