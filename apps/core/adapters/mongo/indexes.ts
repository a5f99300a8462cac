import { MongoServerError, type Db } from 'mongodb';
import { AppError } from '../../domain/errors.js';
import { JOB_STORE_INDEXES, type RequiredIndex } from '../../store-schema/indexes.js';
import { retryThrottled } from './connection.js';

class MissingIndexError extends AppError {
  constructor(readonly missing: RequiredIndex[]) {
    super(
      'MISSING_INDEX',
      `the Cosmos DB database lacks ${missing.map(describeIndex).join(', ')}; ` +
        'indexes are created with the collections by the Pulumi program, never at run time: run `pulumi up`',
    );
  }
}

function describeIndex(index: RequiredIndex): string {
  const keys = index.keys.map((key) => `${key}: 1`).join(', ');
  return `${index.unique ? 'the unique index' : 'the index'} { ${keys} } on "${index.collection}"`;
}

interface ListedIndex {
  key: Record<string, unknown>;
  unique?: boolean;
}

// listIndexes on a collection that does not exist answers NamespaceNotFound.
const NAMESPACE_NOT_FOUND = 26;

async function listIndexes(db: Db, collection: string): Promise<ListedIndex[]> {
  try {
    return (await retryThrottled(() => db.collection(collection).listIndexes().toArray())) as ListedIndex[];
  } catch (error) {
    if (error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND) return [];
    throw error;
  }
}

function covers(listed: ListedIndex, wanted: RequiredIndex): boolean {
  const keys = Object.keys(listed.key);
  return keys.length === wanted.keys.length && keys.every((key, i) => key === wanted.keys[i]) && Boolean(listed.unique) === Boolean(wanted.unique);
}

/** The required indexes that the database does not have, read with listIndexes. */
async function missingIndexes(db: Db, required: readonly RequiredIndex[] = JOB_STORE_INDEXES): Promise<RequiredIndex[]> {
  const missing: RequiredIndex[] = [];
  for (const collection of new Set(required.map((index) => index.collection))) {
    const listed = await listIndexes(db, collection);
    missing.push(...required.filter((index) => index.collection === collection && !listed.some((l) => covers(l, index))));
  }
  return missing;
}

/**
 * Checks the store's indexes. On Cosmos DB it only reads them and fails, naming each missing
 * one, because a unique index created at run time on a collection with documents fails there
 * (and another process may be writing). On a plain MongoDB (local development) it creates what
 * is missing.
 */
export async function verifyIndexes(db: Db, { mayCreate }: { mayCreate: boolean }): Promise<void> {
  const missing = await missingIndexes(db);
  if (missing.length === 0) return;
  if (!mayCreate) throw new MissingIndexError(missing);
  for (const index of missing) {
    const key = Object.fromEntries(index.keys.map((name) => [name, 1 as const]));
    await retryThrottled(() => db.collection(index.collection).createIndex(key, index.unique ? { unique: true } : {}));
  }
}
