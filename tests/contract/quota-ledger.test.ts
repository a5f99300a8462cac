import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoQuotaLedger } from '../../apps/core/adapters/mongo/quota-ledger.js';
import { SqliteQuotaLedger } from '../../apps/core/adapters/sqlite/quota-ledger.js';
import type { QuotaFigures, QuotaLedger } from '../../apps/core/domain/quota-ledger.port.js';
import { WireStandIn } from '../fakes/mongo-wire/stand-in.js';
import { tempDir } from '../helpers.js';

// One contract for the quota ledger, run against each store: counts that every Function
// instance shares, so each write is conditional and racing writers never pass a limit.
function quotaLedgerContract(name: string, open: () => Promise<{ ledgers: [QuotaLedger, QuotaLedger]; close: () => Promise<void> }>) {
  describe(name, () => {
    let a: QuotaLedger;
    let b: QuotaLedger;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ ledgers: [a, b], close } = await open());
    });
    afterAll(async () => {
      await close();
    });

    it('counts each group once, from its claim to its release, and forgets claims older than asked', async () => {
      expect(await a.claimGroup('g1', 2, new Date('2026-12-04T10:00:00Z'))).toBe(true);
      expect(await b.claimGroup('g1', 2, new Date('2026-12-04T10:00:01Z'))).toBe(false);
      expect(await b.claimGroup('g2', 0.5, new Date('2026-12-04T10:05:00Z'))).toBe(true);
      expect(await a.claimed(new Date('2026-12-04T09:00:00Z'))).toEqual({ groups: 2, cores: 2.5 });
      expect(await a.claimed(new Date('2026-12-04T10:01:00Z'))).toEqual({ groups: 1, cores: 0.5 });
      await b.releaseGroup('g1');
      await b.releaseGroup('g1');
      expect(await a.claimed(new Date('2026-12-04T09:00:00Z'))).toEqual({ groups: 1, cores: 0.5 });
      // Only a claim older than asked: g2 was claimed at 10:05.
      await a.releaseGroup('g2', new Date('2026-12-04T10:04:00Z'));
      expect(await a.claimed(new Date('2026-12-04T09:00:00Z'))).toEqual({ groups: 1, cores: 0.5 });
      await a.releaseGroup('g2', new Date('2026-12-04T10:06:00Z'));
      expect(await a.claimed(new Date('2026-12-04T09:00:00Z'))).toEqual({ groups: 0, cores: 0 });
    });

    it('takes from a window up to its limit, whichever instance asks, even all at once', async () => {
      const window = { name: 'create.pt5m', start: '2026-12-04T10:00:00.000Z', limit: 5 };
      const taken = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).take(window)));
      expect(taken.filter(Boolean)).toHaveLength(5);
      expect(await a.take(window)).toBe(false);
      expect(await b.take({ ...window, start: '2026-12-04T10:05:00.000Z' })).toBe(true);
      expect(await b.take({ ...window, name: 'delete.pt5m' })).toBe(true);
      expect(await b.take({ ...window, name: 'zero', limit: 0 })).toBe(false);
    });

    it('raises a window to what the platform reported, never lowers it', async () => {
      const window = { name: 'create.pt1h', start: '2026-12-04T10:00:00.000Z', limit: 3 };
      await a.raise(window, 2);
      await a.raise(window, 1);
      expect(await b.take(window)).toBe(true);
      expect(await b.take(window)).toBe(false);
    });

    it('keeps one figures document for the dashboard', async () => {
      expect(await a.readFigures()).toBeNull();
      const figures: QuotaFigures = {
        at: '2026-12-04T10:00:00.000Z',
        own: { groups: 1, cores: 2 },
        groups: { used: 4, limit: 100, source: 'usage' },
        cores: { used: 9, limit: 10, source: 'refusal' },
        usageDenied: false,
        latestRefusal: { quota: 'StandardCores', kind: 'count', region: 'eastus', limit: 10, usage: 9, requested: 2, code: 'ContainerGroupQuotaReached', at: '2026-12-04T09:59:00.000Z' },
        latestDeferral: { at: '2026-12-04T10:00:00.000Z', jobId: 'j1', reason: "deferred: quota 'StandardCores' is full", kind: 'count' },
      };
      await a.saveFigures({ ...figures, at: 'older' });
      await b.saveFigures(figures);
      expect(await a.readFigures()).toEqual(figures);
    });
  });
}

quotaLedgerContract('SqliteQuotaLedger', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'jobs.db');
  const ledgers: [SqliteQuotaLedger, SqliteQuotaLedger] = [new SqliteQuotaLedger(path), new SqliteQuotaLedger(path)];
  return {
    ledgers,
    close: async () => {
      ledgers.forEach((l) => l.close());
      dir.remove();
    },
  };
});

quotaLedgerContract('MongoQuotaLedger (the wire stand-in)', async () => {
  const standIn = await new WireStandIn({ serverVersion: '6.0' }).start();
  const uri = `mongodb://127.0.0.1:${standIn.port}/quota-test`;
  const ledgers: [MongoQuotaLedger, MongoQuotaLedger] = [await MongoQuotaLedger.connect(uri), await MongoQuotaLedger.connect(uri)];
  return {
    ledgers,
    close: async () => {
      await Promise.all(ledgers.map((l) => l.close()));
      await standIn.close();
    },
  };
});
