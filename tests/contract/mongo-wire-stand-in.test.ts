import { MongoClient, MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WireStandIn } from '../fakes/mongo-wire/stand-in.js';

// The stand-in's transactions, which the store's revision counter relies on: isolated until
// commit, all or nothing, and a conflicting commit refused with the label the driver retries on.
describe('the wire stand-in: transactions', () => {
  let standIn: WireStandIn;
  let a: MongoClient;
  let b: MongoClient;
  beforeAll(async () => {
    standIn = await new WireStandIn({ serverVersion: '6.0' }).start();
    a = await new MongoClient(`mongodb://127.0.0.1:${standIn.port}/t`).connect();
    b = await new MongoClient(`mongodb://127.0.0.1:${standIn.port}/t`).connect();
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await standIn.close();
  });

  it('shows a transaction’s writes to no one else until it commits, then all of them', async () => {
    const docs = a.db('t').collection<{ _id: string; n: number }>('isolated');
    const others = b.db('t').collection<{ _id: string; n: number }>('isolated');
    await docs.insertOne({ _id: 'x', n: 0 });
    const session = a.startSession();
    session.startTransaction();
    await docs.updateOne({ _id: 'x' }, { $inc: { n: 1 } }, { session });
    await docs.insertOne({ _id: 'y', n: 1 }, { session });
    expect(await docs.findOne({ _id: 'x' }, { session })).toEqual({ _id: 'x', n: 1 });
    expect(await others.find().toArray()).toEqual([{ _id: 'x', n: 0 }]);
    await session.commitTransaction();
    await session.endSession();
    expect(await others.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 'x', n: 1 }, { _id: 'y', n: 1 }]);
  });

  it('refuses the later of two conflicting commits with WriteConflict, labelled TransientTransactionError', async () => {
    const first = a.db('t').collection<{ _id: string; n: number }>('conflict');
    const second = b.db('t').collection<{ _id: string; n: number }>('conflict');
    await first.insertOne({ _id: 'c', n: 0 });
    const [s1, s2] = [a.startSession(), b.startSession()];
    s1.startTransaction();
    s2.startTransaction();
    await first.updateOne({ _id: 'c' }, { $inc: { n: 1 } }, { session: s1 });
    await second.updateOne({ _id: 'c' }, { $inc: { n: 10 } }, { session: s2 });
    await s1.commitTransaction();
    const refused = await s2.commitTransaction().then(() => null, (error: unknown) => error);
    expect(refused).toBeInstanceOf(MongoServerError);
    expect(refused).toMatchObject({ code: 112, codeName: 'WriteConflict' });
    expect((refused as MongoServerError).hasErrorLabel('TransientTransactionError')).toBe(true);
    await Promise.all([s1.endSession(), s2.endSession()]);
    expect(await first.findOne({ _id: 'c' })).toEqual({ _id: 'c', n: 1 });
  });

  it('lets withTransaction retry a conflict until every increment lands once', async () => {
    const counter = (client: MongoClient) => client.db('t').collection<{ _id: string; value: number }>('counter');
    const increment = (client: MongoClient) =>
      client.withSession((session) =>
        session.withTransaction(async () => {
          await counter(client).findOneAndUpdate({ _id: 'k' }, { $inc: { value: 1 } }, { upsert: true, session });
        }),
      );
    await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 ? a : b)));
    expect(await counter(a).findOne({ _id: 'k' })).toEqual({ _id: 'k', value: 20 });
    // Twenty at once on one document: some conflicted and ran again.
    const started = standIn.commands.filter((c) => c.name === 'findAndModify' && c.startTransaction === true).length;
    expect(started).toBeGreaterThan(20);
  });
});
