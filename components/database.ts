import * as pulumi from '@pulumi/pulumi';
import * as cosmosdb from '@pulumi/azure-native/cosmosdb/index.js';
import { JOB_STORE_INDEXES, type RequiredIndex } from '../apps/core/store-schema/indexes.js';
import { withoutSslParameter } from './connection-strings.js';

type MongoIndex = { key: { keys: string[] }; options?: { unique?: boolean } };

/**
 * The Cosmos DB for MongoDB server version. The mongodb driver 7.9 needs wire version 9
 * (MongoDB 4.4) or newer (node_modules/mongodb/lib/cmap/wire_protocol/constants.js), so 4.2
 * (wire 8) cannot connect; 6.0 answers wire 17 and is offered to serverless accounts
 * (docs/cosmos.md). What the store sends is checked against the 6.0 feature page
 * (tests/fixtures/cosmos-mongodb-6.0-features.json).
 */
export const COSMOS_SERVER_VERSION = '6.0';

function armIndex(index: RequiredIndex): MongoIndex {
  return index.unique ? { key: { keys: index.keys }, options: { unique: true } } : { key: { keys: index.keys } };
}

function indexesOf(collection: string): MongoIndex[] {
  return JOB_STORE_INDEXES.filter((index) => index.collection === collection).map(armIndex);
}

export interface DatabaseArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  accountName: pulumi.Input<string>;
  /** The database the apps use when the connection string names none. */
  databaseName: pulumi.Input<string>;
}

/**
 * The job store: a Cosmos DB for MongoDB account, serverless (no idle throughput cost), with
 * the database and the collections the MongoJobStore uses, and their indexes. Two connection
 * strings, both secrets: as Azure gives it (dashboard, spawner) and the worker's, with `ssl`
 * removed and every other parameter kept.
 */
export class Database extends pulumi.ComponentResource {
  readonly accountName: pulumi.Output<string>;
  readonly connectionString: pulumi.Output<string>;
  readonly workerConnectionString: pulumi.Output<string>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('event-driven-aci:database:Database', name, {}, opts);

    const account = new cosmosdb.DatabaseAccount(
      `${name}-account`,
      {
        accountName: args.accountName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'MongoDB',
        databaseAccountOfferType: 'Standard',
        capabilities: [{ name: 'EnableServerless' }, { name: 'EnableMongo' }],
        apiProperties: { serverVersion: COSMOS_SERVER_VERSION },
        consistencyPolicy: { defaultConsistencyLevel: 'Session' },
        locations: [{ locationName: args.location, failoverPriority: 0 }],
        minimalTlsVersion: 'Tls12',
      },
      { parent: this },
    );

    const database = new cosmosdb.MongoDBResourceMongoDBDatabase(
      `${name}-db`,
      {
        accountName: account.name,
        resourceGroupName: args.resourceGroupName,
        databaseName: args.databaseName,
        resource: { id: args.databaseName },
      },
      { parent: this },
    );

    const collection = (suffix: string, id: string, indexes: MongoIndex[]) =>
      new cosmosdb.MongoDBResourceMongoDBCollection(
        `${name}-${suffix}`,
        {
          accountName: account.name,
          resourceGroupName: args.resourceGroupName,
          databaseName: database.name,
          collectionName: id,
          resource: { id, indexes: [{ key: { keys: ['_id'] } }, ...indexes] },
        },
        { parent: this },
      );
    // Every index the store relies on is created here, with its collection, while the collection
    // is empty: Cosmos builds a unique index only on an empty collection, and the apps only
    // check at run time (apps/core/adapters/mongo/indexes.ts). The revision counter is a
    // document in `jobs` (a transaction covers one collection). Idempotency keys: the key is
    // the `_id`, so no unique index is ever added (apps/core/adapters/mongo/idempotency-keys.ts).
    // The spawner's quota ledger: small documents found by `_id` or scanned whole, no index
    // (apps/core/adapters/mongo/quota-ledger.ts).
    for (const id of ['jobs', 'artifacts', 'idempotency', 'quota']) collection(id, id, indexesOf(id));

    const strings = cosmosdb.listDatabaseAccountConnectionStringsOutput({
      accountName: account.name,
      resourceGroupName: args.resourceGroupName,
    });
    const primary = strings.apply((result) => {
      const found = result.connectionStrings?.find((c) => c.connectionString.startsWith('mongodb://'));
      if (!found) throw new Error('Cosmos DB returned no MongoDB connection string');
      return found.connectionString;
    });

    this.accountName = account.name;
    this.connectionString = pulumi.secret(primary);
    this.workerConnectionString = pulumi.secret(primary.apply(withoutSslParameter));
    this.registerOutputs({
      accountName: this.accountName,
      connectionString: this.connectionString,
      workerConnectionString: this.workerConnectionString,
    });
  }
}
