import type { QuotaFigures, QuotaLedger, RateWindow } from '../../domain/quota-ledger.port.js';
import type { SqliteConnection, SqliteDriverName } from './driver.js';
import { openSqlite } from './open.js';

// Windows older than this are dropped as new ones are written: the longest window is an hour.
const KEEP_WINDOWS_MS = 2 * 3600_000;

/**
 * The quota ledger in the store's SQLite file (the local stack, and the tests of the Azure
 * path): three small tables beside the jobs. Every count is one conditional statement, so
 * writers on one file never count past a limit.
 */
export class SqliteQuotaLedger implements QuotaLedger {
  private readonly db: SqliteConnection;

  constructor(path: string, options: { driver?: SqliteDriverName } = {}) {
    this.db = openSqlite(path, options.driver);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS quota_groups (name TEXT PRIMARY KEY, cores REAL NOT NULL, claimed_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS quota_windows (name TEXT NOT NULL, start INTEGER NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (name, start));
      CREATE TABLE IF NOT EXISTS quota_figures (id INTEGER PRIMARY KEY CHECK (id = 1), figures TEXT NOT NULL);
    `);
  }

  async claimGroup(name: string, cores: number, at: Date): Promise<boolean> {
    const { changes } = this.db.prepare('INSERT INTO quota_groups (name, cores, claimed_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING').run(name, cores, at.getTime());
    return changes === 1;
  }

  async releaseGroup(name: string, claimedBefore?: Date): Promise<void> {
    if (claimedBefore) this.db.prepare('DELETE FROM quota_groups WHERE name = ? AND claimed_at < ?').run(name, claimedBefore.getTime());
    else this.db.prepare('DELETE FROM quota_groups WHERE name = ?').run(name);
  }

  async claimed(since: Date): Promise<{ groups: number; cores: number }> {
    const row = this.db.prepare('SELECT COUNT(*) AS groups, COALESCE(SUM(cores), 0) AS cores FROM quota_groups WHERE claimed_at >= ?').get(since.getTime()) as {
      groups: number;
      cores: number;
    };
    return { groups: Number(row.groups), cores: Number(row.cores) };
  }

  async take(window: RateWindow): Promise<boolean> {
    const start = Date.parse(window.start);
    this.db.prepare('DELETE FROM quota_windows WHERE name = ? AND start < ?').run(window.name, start - KEEP_WINDOWS_MS);
    const { changes } = this.db
      .prepare('INSERT INTO quota_windows (name, start, used) VALUES (?, ?, 1) ON CONFLICT (name, start) DO UPDATE SET used = used + 1 WHERE used < ?')
      .run(window.name, start, window.limit);
    // A window with a limit under 1 takes nothing, even as its first row.
    return changes === 1 && window.limit >= 1;
  }

  async raise(window: RateWindow, used: number): Promise<void> {
    this.db
      .prepare('INSERT INTO quota_windows (name, start, used) VALUES (?, ?, ?) ON CONFLICT (name, start) DO UPDATE SET used = MAX(used, excluded.used)')
      .run(window.name, Date.parse(window.start), used);
  }

  async saveFigures(figures: QuotaFigures): Promise<void> {
    this.db.prepare('INSERT INTO quota_figures (id, figures) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET figures = excluded.figures').run(JSON.stringify(figures));
  }

  async readFigures(): Promise<QuotaFigures | null> {
    const row = this.db.prepare('SELECT figures FROM quota_figures WHERE id = 1').get() as { figures: string } | undefined;
    return row ? (JSON.parse(row.figures) as QuotaFigures) : null;
  }

  close(): void {
    this.db.close();
  }
}
