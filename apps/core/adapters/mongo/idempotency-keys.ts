import { MongoServerError, type Collection } from 'mongodb';
import type { IdempotencyClaim } from '../../domain/job-store.port.js';

/**
 * The collection of idempotency claims. The Pulumi program creates it empty with nothing but
 * its `_id` index (components/database.ts): on Cosmos DB for MongoDB a unique index can only
 * be built on an empty collection, so uniqueness here rests on `_id` alone.
 */
export const IDEMPOTENCY_COLLECTION = 'idempotency';
const DUPLICATE_KEY = 11000;
const MAX_CLAIM_ROUNDS = 3;

export interface IdempotencyDocument {
  /** The key itself: `_id` is unique in every collection, on Cosmos as on MongoDB. */
  _id: string;
  fingerprint: string;
  jobId: string;
  createdAt: string;
}

type Retry = <T>(operation: () => Promise<T>) => Promise<T>;

/**
 * Idempotency claims in MongoDB / Cosmos DB, one document per key, written with classic
 * operators only (insertOne, findOne, updateOne with `$set`, deleteOne). An expired claim is
 * replaced by a conditional update on its `createdAt`, so two requests racing for an expired
 * key still end with one winner; expired documents of keys never used again stay (a TTL
 * index would be a second index on the collection).
 */
export class MongoIdempotencyKeys {
  constructor(
    private readonly keys: Collection<IdempotencyDocument>,
    private readonly retry: Retry,
  ) {}

  async claim(claim: IdempotencyClaim, expiredBefore: Date): Promise<IdempotencyClaim> {
    const cutoff = expiredBefore.toISOString();
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const existing = await this.retry(() => this.keys.findOne({ _id: claim.key }));
      if (!existing) {
        try {
          await this.retry(() => this.keys.insertOne(toDocument(claim)));
          return claim;
        } catch (error) {
          if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) continue; // another request won
          throw error;
        }
      }
      if (existing.createdAt >= cutoff) return fromDocument(existing);
      const { _id, ...fresh } = toDocument(claim);
      const replaced = await this.retry(() =>
        this.keys.updateOne({ _id, createdAt: existing.createdAt }, { $set: fresh }),
      );
      if (replaced.modifiedCount === 1) return claim;
    }
    throw new Error(`idempotency key ${claim.key} changed hands ${MAX_CLAIM_ROUNDS} times while it was claimed`);
  }

  async release(key: string, jobId: string): Promise<void> {
    await this.retry(() => this.keys.deleteOne({ _id: key, jobId }));
  }
}

function toDocument(claim: IdempotencyClaim): IdempotencyDocument {
  return { _id: claim.key, fingerprint: claim.fingerprint, jobId: claim.jobId, createdAt: claim.createdAt };
}

function fromDocument(doc: IdempotencyDocument): IdempotencyClaim {
  return { key: doc._id, fingerprint: doc.fingerprint, jobId: doc.jobId, createdAt: doc.createdAt };
}
