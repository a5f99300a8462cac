import type { LookupFunction } from 'node:net';
import { MongoClient, type MongoClientOptions } from 'mongodb';
import { generate } from 'selfsigned';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JOB_STORE_INDEXES } from '../../apps/core/store-schema/indexes.js';
import { MongoJobStore } from '../../apps/core/adapters/mongo/job-store.js';
import { containerNameFor } from '../../apps/core/domain/container-name.js';
import { newPendingJob } from '../../apps/core/domain/job.js';
import { newJobId } from '../../apps/core/domain/job-id.js';
import { withoutSslParameter } from '../../components/connection-strings.js';
import { COSMOS_SERVER_VERSION } from '../../components/database.js';
import { WireStandIn } from '../fakes/mongo-wire/stand-in.js';
import { COSMOS_CONNECTION } from '../infra/pulumi-mocks.js';
import { checkCommands, featurePage } from './cosmos-feature-check.js';

// MongoJobStore as it runs on Azure: the worker's DATABASE_URI (Cosmos's string without ssl=true),
// a *.mongo.cosmos.azure.com host, TLS turned on by the store itself, and the collections and
// indexes that the Pulumi program creates. The host resolves to the wire stand-in, which answers
// hello as Cosmos DB for MongoDB 6.0 and records every command. This proves the shape of what the
// store sends, checked against Microsoft's feature page; it does not prove what Cosmos answers.

const ACCOUNT_HOST = 'acct.mongo.cosmos.azure.com';
const DATABASE = 'event-driven-aci';
let tls: { key: string; cert: string };

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: ACCOUNT_HOST }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: ACCOUNT_HOST }] }],
  });
  tls = { key: pems.private, cert: pems.cert };
});

/** Resolves every name to this machine, as DNS resolves the account's name to Cosmos. */
const toThisMachine = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
  if (options?.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
}) as unknown as LookupFunction;

let standIn: WireStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

/** A stand-in for the account, with the collections Pulumi creates and `indexes` on jobs. */
async function cosmosAccount(serverVersion = COSMOS_SERVER_VERSION, indexes = JOB_STORE_INDEXES) {
  standIn = await new WireStandIn({ serverVersion, hostName: ACCOUNT_HOST, tls }).start();
  for (const name of ['jobs', 'artifacts']) {
    const own = indexes.filter((index) => index.collection === name);
    standIn.model.createCollection(DATABASE, name, own.map((index) => ({ key: Object.fromEntries(index.keys.map((k) => [k, 1])), unique: index.unique })));
  }
  // The worker's string from the Pulumi program, pointed at the stand-in's port. Without the
  // account key (the stand-in does not authenticate, so SCRAM is not exercised here); without
  // credentials the driver would read appName's "@" as theirs, so it is percent-encoded.
  const workerUri = withoutSslParameter(COSMOS_CONNECTION)
    .replace(/^mongodb:\/\/[^@]*@[^/]*/, `mongodb://${ACCOUNT_HOST}:${standIn.port}`)
    .replace(/appName=@(\w+)@/, 'appName=%40$1%40');
  const clientOptions: MongoClientOptions = { lookup: toThisMachine, ca: tls.cert, serverSelectionTimeoutMS: 3000 };
  return { standIn, workerUri, clientOptions };
}

/** What the store asked for: without the driver's handshakes and its endSessions at close. */
function storeCommands(standIn: WireStandIn) {
  return standIn.operations().filter((c) => c.name !== 'endSessions');
}

function pending(message = 'work') {
  const id = newJobId();
  return newPendingJob(id, containerNameFor(id), message, new Date());
}

describe('MongoJobStore against Cosmos DB for MongoDB (the wire stand-in)', () => {
  it('connects over TLS to the account host as the worker does, the driver accepting the version Pulumi sets', async () => {
    const { standIn, workerUri, clientOptions } = await cosmosAccount();
    expect(workerUri).toMatch(new RegExp(`^mongodb://${ACCOUNT_HOST}:\\d+/\\?replicaSet=globaldb&retrywrites=false`));
    const store = await MongoJobStore.connect(workerUri, { verifyIndexes: false, clientOptions });
    await store.ping();
    await store.close();
    expect(standIn.commands[0]).toMatchObject({ name: 'ismaster', db: 'admin' });
  });

  it('cannot connect to an account on server version 4.2 (wire version 8), which the driver refuses', async () => {
    const { workerUri, clientOptions } = await cosmosAccount('4.2');
    await expect(MongoJobStore.connect(workerUri, { verifyIndexes: false, clientOptions })).rejects.toThrow(
      /reports maximum wire version 8, but this version of the Node\.js Driver requires at least 9/,
    );
  });

  it('checks the indexes with listIndexes and creates none', async () => {
    const { standIn, workerUri, clientOptions } = await cosmosAccount();
    const store = await MongoJobStore.connect(workerUri, { clientOptions });
    await store.close();
    expect(storeCommands(standIn).map((c) => `${c.name} ${c.body[c.name]}`)).toEqual(['listIndexes jobs']);
  });

  it('refuses to start without an index Pulumi creates, naming it and pulumi up, and creates nothing', async () => {
    const withoutRev = JOB_STORE_INDEXES.filter((index) => index.keys[0] !== 'rev');
    const withoutUnique = JOB_STORE_INDEXES.filter((index) => !index.unique);
    for (const indexes of [withoutRev, withoutUnique]) {
      const { standIn, workerUri, clientOptions } = await cosmosAccount(COSMOS_SERVER_VERSION, indexes);
      const failure = MongoJobStore.connect(workerUri, { clientOptions });
      await expect(failure).rejects.toMatchObject({ code: 'MISSING_INDEX' });
      await expect(failure).rejects.toThrow(indexes === withoutRev ? 'the index { rev: 1 } on "jobs"' : 'the unique index { containerName: 1 } on "jobs"');
      await expect(failure).rejects.toThrow('run `pulumi up`');
      expect(standIn.commands.map((c) => c.name)).not.toContain('createIndexes');
      await standIn.close();
    }
    standIn = undefined;
  });

  it('does not read the indexes at all where it is told not to (the worker, the spawner)', async () => {
    const { standIn, workerUri, clientOptions } = await cosmosAccount();
    const store = await MongoJobStore.connect(workerUri, { verifyIndexes: false, clientOptions });
    await store.close();
    expect(standIn.commands.map((c) => c.name)).not.toContain('listIndexes');
  });

  it('sends only what the Cosmos feature page lists, through every operation of the store', async () => {
    const { standIn, workerUri, clientOptions } = await cosmosAccount();
    const store = await MongoJobStore.connect(workerUri, { clientOptions });
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');
    const first = await store.insert(pending('$set {"a":1}'));
    const failed = await store.insert(pending());
    // Read once now: the running totals are counted and saved, and every later write moves them.
    expect(await store.counts()).toMatchObject({ Pending: 2 });
    await store.get(first.id);
    await store.getByContainerName(first.containerName);
    await store.noteDispatchError(first.containerName, 'quota');
    await store.markDispatched(first.containerName, 1, new Date(t0), { cpu: 1, memoryGb: 1.5 });
    await store.markStarted(first.containerName, new Date(t0 + 1000));
    // The platform killed the first container: a second attempt, under its own container.
    const second = containerNameFor(first.id, 2);
    const ended = { n: 1, containerName: first.containerName, dispatchedAt: new Date(t0).toISOString(), startedAt: new Date(t0 + 1000).toISOString(), finishedAt: new Date(t0 + 1500).toISOString(), cpu: 1, memoryGb: 1.5, reason: 'killed' };
    await store.beginRetry(first.containerName, { ended, containerName: second });
    await store.markStarted(second, new Date(t0 + 2000));
    await store.markDispatched(second, 2, new Date(t0 + 1800), { cpu: 1, memoryGb: 1.5 });
    await store.markDispatched(second, 2, new Date(t0 + 1900), { cpu: 1, memoryGb: 1.5 });
    await store.reportProgress(second, 0.5);
    await store.markDone(second, new Date(t0 + 3000), 'out');
    await store.markFailed(failed.containerName, new Date(t0 + 2000), '$literal $ifNull');
    const page = await store.list({ limit: 1 });
    await store.list({ limit: 1, cursor: page.next!, state: 'Done' });
    await store.changedSince(0, 10);
    await store.currentRev();
    expect(await store.counts()).toEqual({ Pending: 0, InProgress: 0, Done: 1, Failed: 1 });
    // Both attempts of the first task, 1.5 s and 1.2 s, each billed 2 s; the failed one never ran.
    expect(await store.usageTotals()).toEqual({ vcpuSeconds: 4, gbSeconds: 6 });
    await store.listActive();
    await store.saveArtifacts(second, { logs: 'line\n', metrics: null });
    await store.getArtifacts(second);
    await store.ping();
    await store.close();

    // What the model holds after it: the dispatch recorded once per attempt, the first attempt kept.
    expect(standIn.model.documents(DATABASE, 'jobs').find((j) => j._id === first.id)).toMatchObject({
      state: 'Done',
      containerName: second,
      dispatchedAt: '2026-01-01T00:00:01.800Z',
      attempts: 2,
      priorAttempts: [ended],
      message: '$set {"a":1}',
    });
    const sent = new Set(storeCommands(standIn).map((c) => c.name));
    expect([...sent].sort()).toEqual(['abortTransaction', 'commitTransaction', 'find', 'findAndModify', 'listIndexes', 'update']);
    expect(checkCommands(standIn.commands, JOB_STORE_INDEXES, featurePage(COSMOS_SERVER_VERSION))).toEqual([]);
    // Cosmos's string says retrywrites=false: no write outside a transaction carries a
    // transaction number (a retryable write); every job write is in one, on `jobs` alone.
    expect(standIn.operations().filter((c) => c.txnNumber !== undefined && c.autocommit !== false)).toEqual([]);
    const inTransactions = standIn.operations().filter((c) => c.autocommit === false && !c.name.endsWith('Transaction'));
    expect(new Set(inTransactions.map((c) => `${c.db}.${c.body[c.name]}`))).toEqual(new Set([`${DATABASE}.jobs`]));
  });

  it('records the session and transaction fields of each command (what a transaction on jobs sends)', async () => {
    const { standIn, workerUri, clientOptions } = await cosmosAccount();
    const client = new MongoClient(workerUri, { tls: true, ...clientOptions });
    try {
      const jobs = client.db(DATABASE).collection('jobs');
      await client.withSession((session) =>
        session.withTransaction(async () => {
          // Not jobs: each carries its own containerName, which the unique index on jobs requires.
          await jobs.updateOne({ _id: 'a' as never }, { $set: { rev: 1, containerName: 'not-a-job-a' } }, { session, upsert: true });
          await jobs.updateOne({ _id: 'b' as never }, { $set: { rev: 2, containerName: 'not-a-job-b' } }, { session, upsert: true });
        }),
      );
    } finally {
      await client.close();
    }
    const inTransaction = standIn.operations().filter((c) => c.name === 'update' || c.name === 'commitTransaction');
    expect(inTransaction.map((c) => [c.name, c.db, c.txnNumber, c.autocommit, c.startTransaction])).toEqual([
      ['update', DATABASE, 1, false, true],
      ['update', DATABASE, 1, false, undefined],
      ['commitTransaction', 'admin', 1, false, undefined],
    ]);
    const [first, ...rest] = inTransaction.map((c) => JSON.stringify(c.lsid));
    expect(first).toBeDefined();
    expect(rest.every((lsid) => lsid === first)).toBe(true);
  });
});

describe('the feature-page check itself', () => {
  const page = featurePage(COSMOS_SERVER_VERSION);
  const command = (name: string, body: Record<string, unknown>) => [{ db: DATABASE, name, body: { [name]: 'jobs', ...body }, connectionId: 1 }];

  it('names the page it reads', () => {
    expect(page.source.url).toBe('https://learn.microsoft.com/en-us/azure/cosmos-db/mongodb/feature-support-60');
  });

  it('flags a pipeline-style update, an unlisted update operator and an operator inside a value', () => {
    expect(checkCommands(command('update', { updates: [{ q: { _id: 'x' }, u: [{ $set: { a: 1 } }] }] }), JOB_STORE_INDEXES, page)).toEqual([
      'update on event-driven-aci: a pipeline-style update: the page documents update operators, not pipelines',
    ]);
    expect(checkCommands(command('update', { updates: [{ q: {}, u: { $set: { a: { $ifNull: ['$a', 1] } }, $pullAllx: {} } }] }), JOB_STORE_INDEXES, page)).toHaveLength(2);
  });

  it('flags a command the page does not list, an array literal in a comparison and an unindexed sort', () => {
    expect(checkCommands([{ db: 'admin', name: 'ping', body: { ping: 1 }, connectionId: 1 }], JOB_STORE_INDEXES, page)).toEqual([
      'ping on admin: the command is not on the page',
    ]);
    expect(checkCommands(command('find', { filter: { state: { $in: ['Pending', 'InProgress'] } } }), JOB_STORE_INDEXES, page)).toHaveLength(1);
    expect(checkCommands(command('find', { filter: {}, sort: { enqueuedAt: -1 } }), JOB_STORE_INDEXES, page)).toEqual([
      'find on event-driven-aci: sorts on { enqueuedAt }, which no index on "jobs" covers',
    ]);
    expect(checkCommands(command('find', { filter: {}, sort: { rev: 1 } }), JOB_STORE_INDEXES, page)).toEqual([]);
  });

  it('flags an aggregation stage or expression the page does not list', () => {
    const pipeline = [{ $bucket: {} }, { $project: { a: { $dateTrunc: { date: '$d', unit: 'day' } } } }];
    expect(checkCommands(command('aggregate', { pipeline }), JOB_STORE_INDEXES, page)).toEqual([
      'aggregate on event-driven-aci: aggregation stage $bucket is not on the page',
      'aggregate on event-driven-aci: expression operator $dateTrunc is not on the page',
    ]);
  });
});
