import { SettingsError } from '../domain/errors.js';
import type { QuotaLedger } from '../domain/quota-ledger.port.js';
import { databaseUriProblem, sqlitePathFromUri } from '../domain/database-uri.js';
import { importLocalOnly } from './local-only.js';

/**
 * The quota ledger in the store named by the connection string, beside the jobs: `sqlite:` a
 * file (tests of the Azure path), `mongodb://` MongoDB (Cosmos DB on Azure).
 */
export async function openQuotaLedger(databaseUri: string): Promise<QuotaLedger> {
  const problem = databaseUriProblem(databaseUri);
  if (problem) throw new SettingsError(problem);
  if (databaseUri.startsWith('sqlite:')) {
    const { SqliteQuotaLedger } = await importLocalOnly('DATABASE_URI', () => import('./sqlite/quota-ledger.js'));
    return new SqliteQuotaLedger(sqlitePathFromUri(databaseUri));
  }
  const { MongoQuotaLedger } = await import('./mongo/quota-ledger.js');
  return MongoQuotaLedger.connect(databaseUri);
}
