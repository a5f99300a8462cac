// The store's schema that both sides must agree on: the apps' store adapter checks it at run
// time (apps/core/adapters/mongo/indexes.ts), and the Pulumi program creates it with the
// collections (components/database.ts). Neutral ground, so that neither reaches into the
// other: it imports nothing (tests/unit/import-rules.test.ts).

/** An index the store relies on, besides `_id`. Key order matters; direction does not. */
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
  // The dashboard lists one state, newest first; the API also one kind, or one kind in one
  // state (GET /api/jobs?state=&kind=). Each filter's equality fields lead, the sort follows.
  { collection: 'jobs', keys: ['state', '_id'] },
  { collection: 'jobs', keys: ['kind', '_id'] },
  { collection: 'jobs', keys: ['state', 'kind', '_id'] },
  // changedSince sorts by rev, and Cosmos refuses a sort on a field no index covers.
  { collection: 'jobs', keys: ['rev'] },
];
