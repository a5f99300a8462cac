import { MongoClient, MongoServerError, type Collection } from 'mongodb';
import type { QuotaFigures, QuotaLedger, RateWindow } from '../../domain/quota-ledger.port.js';
import { databaseName, mongoClientOptions, retryThrottled } from './connection.js';

const DUPLICATE_KEY = 11000;
// Windows older than this are dropped as new ones are written: the longest window is an hour.
const KEEP_WINDOWS_MS = 2 * 3600_000;

type QuotaDocument =
  | { _id: string; type: 'group'; name: string; cores: number; claimedAt: Date }
  | { _id: string; type: 'window'; name: string; start: Date; used: number }
  | { _id: string; type: 'figures'; figures: QuotaFigures };

/**
 * The quota ledger in MongoDB (Cosmos DB on Azure): one small collection, `quota`, of one
 * document per group held, one per rate window and one of figures. A window is taken by one
 * conditional upsert (`used < limit`): when it is full, the upsert's insert collides with the
 * window's own _id and is refused, so instances racing each other never count past the limit.
 */
export class MongoQuotaLedger implements QuotaLedger {
  private constructor(
    private readonly client: MongoClient,
    private readonly quota: Collection<QuotaDocument>,
  ) {}

  static async connect(uri: string): Promise<MongoQuotaLedger> {
    const client = new MongoClient(uri, { ...mongoClientOptions(uri), serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    return new MongoQuotaLedger(client, client.db(databaseName(uri)).collection<QuotaDocument>('quota'));
  }

  async claimGroup(name: string, cores: number, at: Date): Promise<boolean> {
    try {
      const result = await retryThrottled(() =>
        this.quota.updateOne({ _id: `group:${name}` }, { $setOnInsert: { type: 'group', name, cores, claimedAt: at } }, { upsert: true }),
      );
      return result.upsertedCount === 1;
    } catch (error) {
      // Two claims of one name at once: the other one holds it.
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw error;
    }
  }

  async releaseGroup(name: string, claimedBefore?: Date): Promise<void> {
    await retryThrottled(() => this.quota.deleteOne(claimedBefore ? { _id: `group:${name}`, claimedAt: { $lt: claimedBefore } } : { _id: `group:${name}` }));
  }

  async claimed(since: Date): Promise<{ groups: number; cores: number }> {
    // At most a few hundred small documents (ACI's group quota): summed here, no aggregation needed.
    const groups = await retryThrottled(() => this.quota.find({ type: 'group', claimedAt: { $gte: since } }, { projection: { cores: 1 } }).toArray());
    return { groups: groups.length, cores: groups.reduce((sum, doc) => sum + ((doc as { cores?: number }).cores ?? 0), 0) };
  }

  async take(window: RateWindow): Promise<boolean> {
    if (window.limit < 1) return false;
    const start = new Date(window.start);
    try {
      await retryThrottled(() =>
        this.quota.updateOne(
          { _id: windowId(window), used: { $lt: window.limit } },
          { $inc: { used: 1 }, $setOnInsert: { type: 'window', name: window.name, start } },
          { upsert: true },
        ),
      );
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw error;
    }
    await retryThrottled(() => this.quota.deleteMany({ type: 'window', name: window.name, start: { $lt: new Date(start.getTime() - KEEP_WINDOWS_MS) } }));
    return true;
  }

  async raise(window: RateWindow, used: number): Promise<void> {
    try {
      await retryThrottled(() =>
        this.quota.updateOne(
          { _id: windowId(window) },
          { $max: { used }, $setOnInsert: { type: 'window', name: window.name, start: new Date(window.start) } },
          { upsert: true },
        ),
      );
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
    }
  }

  async saveFigures(figures: QuotaFigures): Promise<void> {
    await retryThrottled(() => this.quota.replaceOne({ _id: 'figures' }, { type: 'figures', figures } as Omit<QuotaDocument, '_id'>, { upsert: true }));
  }

  async readFigures(): Promise<QuotaFigures | null> {
    const doc = await retryThrottled(() => this.quota.findOne({ _id: 'figures' }));
    return doc && doc.type === 'figures' ? doc.figures : null;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function windowId(window: RateWindow): string {
  return `window:${window.name}:${window.start}`;
}
