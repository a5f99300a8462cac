import { setTimeout as delay } from 'node:timers/promises';
import { MongoServerError } from 'mongodb';

/**
 * How the MongoDB store reads its connection string: which hosts, whether TLS is on, which
 * database, whether the server is Cosmos DB; and how it waits out a Cosmos throttle.
 */

const DEFAULT_DATABASE = 'event-driven-aci';
// Cosmos DB answers 16500 (TooManyRequests) when a request exceeds the available rate.
const THROTTLED = 16500;
const MAX_THROTTLE_RETRIES = 6;
const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;
// The account endpoint of Cosmos DB for MongoDB 3.6+ is `<account>.mongo.cosmos.azure.com`
// (https://learn.microsoft.com/azure/cosmos-db/mongodb/feature-support-60, "Protocol support");
// the driver recognises Cosmos by the same suffix (mongodb/lib/utils.js COSMOS_DB_CHECK).
const COSMOS_HOST = /\.cosmos\.azure\.com(:\d+)?$/i;

/** The host[:port] entries of a connection string (the SRV name for `mongodb+srv://`). */
function connectionHosts(uri: string): string[] {
  const authority = uri.replace(/^mongodb(\+srv)?:\/\//, '').split(/[/?]/)[0]!;
  return authority.slice(authority.lastIndexOf('@') + 1).split(',');
}

/**
 * Options for a connection string as the store receives it. The worker's Cosmos string has
 * `ssl=true` removed (a contract kept from the original system), so TLS is turned on here for
 * any host that is not this machine, unless the string says otherwise itself. Everything else
 * in the string (retrywrites=false for Cosmos, replicaSet, …) is respected as given.
 */
export function mongoClientOptions(uri: string): { tls?: boolean } {
  const params = new URLSearchParams(uri.split('?')[1] ?? '');
  if (params.has('tls') || params.has('ssl') || uri.startsWith('mongodb+srv://')) return {};
  const local = connectionHosts(uri).every((host) => LOCAL_HOST.test(host));
  return local ? {} : { tls: true };
}

/**
 * Whether the string names a Cosmos DB account. Told by the host, not by the server's hello
 * answer: Microsoft documents the endpoint's form, but no field of hello that marks Cosmos, and
 * the host is known before any command is sent.
 */
export function isCosmosDb(uri: string): boolean {
  return connectionHosts(uri).some((host) => COSMOS_HOST.test(host));
}

export function databaseName(uri: string): string {
  const path = uri.replace(/^mongodb(\+srv)?:\/\/[^/]*/, '').split('?')[0]!.replace(/^\//, '');
  return path || DEFAULT_DATABASE;
}

/** Retries a Cosmos throttle with the backoff it asks for (RetryAfterMs), or exponential. */
export async function retryThrottled<T>(operation: () => Promise<T>, sleep: (ms: number) => Promise<unknown> = delay): Promise<T> {
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
