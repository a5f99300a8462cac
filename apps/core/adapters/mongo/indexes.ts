import { MongoServerError, type Db } from 'mongodb';
import { AppError } from '../../domain/errors.js';
import { retryThrottled } from './connection.js';

/** An index MongoJobStore relies on, besides `_id`. Key order matters; direction does not. */
export interface RequiredIndex {
  collection: string;
  keys: string[];
  unique?: boolean;
}

/**
 * The one list of the store's indexes. The Pulumi program creates them with the collections
 * (components/database.ts), because Cosmos DB builds a unique index only on an empty
 * collection (https://learn.microsoft.com/azure/cosmos-db/mongodb/indexing, "Unique indexes",
 * "Limitations"). Key directions are not listed: ARM's MongoIndexKeys has names only, and
 * Cosmos serves a sort in either direction from the same index (same page, "Compound indexes").
 */
export const JOB_STORE_INDEXES: readonly RequiredIndex[] = [
  // A job's container name is unique: a message delivered twice starts one container.
  { collection: 'jobs', keys: ['containerName'], unique: true },
  // The dashboard lists one state, newest first.
  { collection: 'jobs', keys: ['state', '_id'] },
  // changedSince sorts by rev, and Cosmos refuses a sort on a field no index covers.
  { collection: 'jobs', keys: ['rev'] },
];

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
