import type { ContainerRuntime, ContainerSpec, ContainerStatus, StopReason } from '../core/domain/container-runtime.port.js';
import { errorMessage } from '../core/domain/errors.js';
import { QuotaFullError, QuotaRefusedError, type QuotaRefusal } from '../core/domain/quota.js';
import type { QuotaFigure, QuotaFigures, QuotaLedger, RateWindow } from '../core/domain/quota-ledger.port.js';
import type { CreateBudget, RegionUsage, UsageRow } from '../core/domain/region-usage.port.js';

/** ACI's rates per subscription and region (Learn: container-instances-resource-and-quota-limits): creates and deletes alike. */
export const ACI_RATES: RateLimits = { pt5m: { limit: 100, ms: 5 * 60_000 }, pt1h: { limit: 300, ms: 3600_000 } };

/** Each window's length and how many creates (or deletes) it takes. */
export interface RateLimits {
  pt5m: { limit: number; ms: number };
  pt1h: { limit: number; ms: number };
}

export interface QuotaLimits {
  /** The most groups this stack keeps at once: running, provisioning, or kept for metrics. */
  containerGroupQuota: number;
  /** The most cores those groups may ask for together. */
  coreQuota: number;
}

export interface QuotaGuardOptions {
  ledger: QuotaLedger;
  limits: QuotaLimits;
  /** Azure's usage read; null where there is none (then the store's count and refusals alone). */
  usage: RegionUsage | null;
  /** The create's own budget headers, where the runtime's client reads them. */
  budget: CreateBudget | null;
  /** How long a start kept out by a full count waits before it is tried again. */
  backoffMs: number;
  /**
   * A claim older than this is a leftover (a crash between claim and create, a group lost
   * without a delete) and no longer counts: the longest a group can live, and then some.
   */
  claimLifetimeMs: number;
  /** ACI's rates (ACI_RATES); tests scale them down. */
  rates?: RateLimits;
  /** One line for the Function's log (the usage read's refusal is said once per instance). */
  warn: (line: string) => void;
  now?: () => Date;
}

/** Rows named as ACI names its quotas (the spec example's `ContainerGroups`; the refusal's `StandardCores`). */
const GROUPS_QUOTA = 'ContainerGroups';
const CORES_QUOTA = 'StandardCores';
// A refusal's Usage figure is a reading of that moment: trusted as a floor only this long.
const REFUSAL_USAGE_FRESH_MS = 60_000;
// Longer than any create can be in flight (an ARM call is bounded well under the Function's timeout).
const CREATE_IN_FLIGHT_MS = 10 * 60_000;
// A group kept for metrics is deleted early while a quota deferral is this recent.
const TIGHT_AFTER_DEFERRAL_MS = 120_000;

/**
 * ACI's quotas as Azure counts them, around the runtime that creates the groups. Before a
 * create: the group is claimed in the store (so every Function instance counts it, from before
 * its create until its delete), then the counts are checked with the claim in them: this
 * stack's groups and cores against its settings, the region's usage (every stack in the
 * subscription) against Azure's limits, and the create windows (100 per 5 minutes, 300 per
 * hour) in the store. A count without room, or Azure's own refusal, is a retry-later error
 * naming the quota: the work is deferred, never failed. Deletes take from their own windows.
 * The figures each start read are kept in the store for the dashboard.
 */
export class QuotaGuardedRuntime implements ContainerRuntime {
  private readonly now: () => Date;
  private readonly rates: RateLimits;
  private deniedSaid = false;

  constructor(
    /** The runtime that creates the groups (AciRuntime on Azure). */
    readonly inner: ContainerRuntime,
    private readonly options: QuotaGuardOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.rates = options.rates ?? ACI_RATES;
  }

  async start(spec: ContainerSpec): Promise<{ created: boolean }> {
    const { ledger } = this.options;
    const now = this.now();
    // Already claimed: a redelivery of a start that was counted; the runtime finds its group.
    if (!(await ledger.claimGroup(spec.name, spec.cpu, now))) return this.inner.start(spec);
    try {
      await this.checkRoom(spec, now);
      const windowFull = await this.takeRates('create', now);
      if (windowFull) {
        await this.noteDeferral(spec.jobId, windowFull.message, 'rate', now, null);
        throw windowFull;
      }
    } catch (error) {
      await ledger.releaseGroup(spec.name);
      throw error;
    }
    let result: { created: boolean };
    try {
      result = await this.inner.start(spec);
    } catch (error) {
      await ledger.releaseGroup(spec.name);
      if (error instanceof QuotaRefusedError) await this.noteDeferral(spec.jobId, error.message, error.refusal.kind, now, error.refusal);
      throw error;
    }
    await this.raiseFromHeaders('create', now);
    return result;
  }

  async delete(name: string): Promise<void> {
    const windowFull = await this.takeRates('delete', this.now());
    if (windowFull) throw windowFull;
    await this.inner.delete(name);
    await this.options.ledger.releaseGroup(name);
    await this.raiseFromHeaders('delete', this.now());
  }

  /**
   * A group that is gone (lost, or deleted by someone else) no longer counts. Only a claim older
   * than a create can take: a claim made a moment ago may be a create still in flight.
   */
  async status(name: string): Promise<ContainerStatus | null> {
    const status = await this.inner.status(name);
    if (status === null) await this.options.ledger.releaseGroup(name, new Date(this.now().getTime() - CREATE_IN_FLIGHT_MS));
    return status;
  }

  list(): Promise<ContainerStatus[]> {
    return this.inner.list();
  }

  stop(name: string, reason: StopReason): Promise<void> {
    return this.inner.stop(name, reason);
  }

  logs(name: string): Promise<string | null> {
    return this.inner.logs(name);
  }

  /**
   * Whether a group kept for late metrics should go now: a start was kept out by a quota a
   * moment ago, or this stack's own count is at its limit.
   */
  async tight(): Promise<boolean> {
    const now = this.now();
    const figures = await this.options.ledger.readFigures();
    // Only a count (groups, cores) frees up when a group goes; a full create window does not.
    const deferral = figures?.latestDeferral;
    const deferredAt = deferral && deferral.kind === 'count' ? Date.parse(deferral.at) : -Infinity;
    if (now.getTime() - deferredAt < TIGHT_AFTER_DEFERRAL_MS) return true;
    const own = await this.options.ledger.claimed(new Date(now.getTime() - this.options.claimLifetimeMs));
    return own.groups >= this.options.limits.containerGroupQuota || own.cores >= this.options.limits.coreQuota;
  }

  /** The counts with this start's claim in them; throws QuotaFullError for the first that has no room. */
  private async checkRoom(spec: ContainerSpec, now: Date): Promise<void> {
    const { limits } = this.options;
    // Every figure is what is used before this start (its own claim taken out): it needs one group and spec.cpu cores.
    const figures = await this.figures(now, { groups: 1, cores: spec.cpu });
    const room = (figure: QuotaFigure, need: number) => figure.used + need <= figure.limit + 1e-9;
    const source = (figure: QuotaFigure) =>
      figure.source === 'usage' ? "the region's usage, every stack in the subscription" : figure.source === 'refusal' ? "ACI's latest refusal" : 'this stack';
    const full = !room({ used: figures.own.groups, limit: limits.containerGroupQuota, source: 'setting' }, 1)
      ? { quota: GROUPS_QUOTA, detail: `this stack holds ${figures.own.groups} groups of containerGroupQuota ${limits.containerGroupQuota}` }
      : !room({ used: figures.own.cores, limit: limits.coreQuota, source: 'setting' }, spec.cpu)
        ? { quota: CORES_QUOTA, detail: `this stack's groups ask ${figures.own.cores} cores; ${spec.cpu} more would pass coreQuota ${limits.coreQuota}` }
        : !room(figures.groups, 1)
          ? { quota: GROUPS_QUOTA, detail: `${figures.groups.used} of ${figures.groups.limit} groups in use (${source(figures.groups)})` }
          : !room(figures.cores, spec.cpu)
            ? { quota: CORES_QUOTA, detail: `${figures.cores.used} of ${figures.cores.limit} cores in use (${source(figures.cores)}); ${spec.cpu} more asked` }
            : null;
    if (!full) {
      await this.options.ledger.saveFigures(figures);
      return;
    }
    const error = new QuotaFullError(this.options.backoffMs, full.quota, full.detail);
    await this.noteDeferral(spec.jobId, error.message, 'count', now, null, figures);
    throw error;
  }

  /**
   * What the store, Azure's usage read and the latest refusal say now, `pending` (a claim in
   * flight, not yet a group) left out of the store's count.
   */
  private async figures(now: Date, pending = { groups: 0, cores: 0 }): Promise<QuotaFigures> {
    const { ledger, limits } = this.options;
    const claimed = await ledger.claimed(new Date(now.getTime() - this.options.claimLifetimeMs));
    const own = { groups: Math.max(0, claimed.groups - pending.groups), cores: Math.max(0, claimed.cores - pending.cores) };
    const previous = await ledger.readFigures();
    const refusal = previous?.latestRefusal ?? null;
    const usage = await this.readUsage();
    const fromRefusal = (quota: RegExp, ownUsed: number, setting: number): QuotaFigure | null => {
      if (!refusal || !quota.test(refusal.quota) || refusal.limit === null) return null;
      const fresh = now.getTime() - Date.parse(refusal.at) < REFUSAL_USAGE_FRESH_MS && refusal.usage !== null;
      return { used: fresh ? Math.max(ownUsed, refusal.usage!) : ownUsed, limit: Math.min(setting, refusal.limit), source: 'refusal' };
    };
    const row = (rows: UsageRow[], match: (name: string) => boolean): QuotaFigure | null => {
      const found = rows.find((r) => match(r.name));
      return found ? { used: found.used, limit: found.limit, source: 'usage' } : null;
    };
    const rows = usage && 'rows' in usage ? usage.rows : [];
    const groups =
      row(rows, (name) => name.toLowerCase() === 'containergroups') ??
      fromRefusal(/^containergroups$/i, own.groups, limits.containerGroupQuota) ?? { used: own.groups, limit: limits.containerGroupQuota, source: 'store' };
    // A cores row has no source (only the spec's ContainerGroups row is shown anywhere): used when it comes.
    const cores =
      row(rows, (name) => /^(standard)?cores$/i.test(name.replace(/[^a-z]/gi, ''))) ??
      fromRefusal(/^(standard)?cores$/i, own.cores, limits.coreQuota) ?? { used: own.cores, limit: limits.coreQuota, source: 'store' };
    return {
      at: now.toISOString(),
      own,
      groups,
      cores,
      usageDenied: usage !== null && 'denied' in usage,
      latestRefusal: refusal,
      latestDeferral: previous?.latestDeferral ?? null,
    };
  }

  /** Azure's usage, or null when there is none or it failed: the store's count stands in, said once. */
  private async readUsage() {
    if (!this.options.usage) return null;
    try {
      const reading = await this.options.usage.read();
      if ('denied' in reading && !this.deniedSaid) {
        this.deniedSaid = true;
        this.options.warn(
          `ACI usage read refused (${reading.denied}): counting from the store and the latest refusal; grant Microsoft.ContainerInstance/locations/usages/read at subscription scope to see other stacks`,
        );
      }
      return reading;
    } catch (error) {
      this.options.warn(`ACI usage read failed: ${errorMessage(error)}; counting from the store this time`);
      return null;
    }
  }

  /** One from each window of `op` (5 minutes, an hour); or, for the first window that is full, a retry-later error until it ends. */
  private async takeRates(op: 'create' | 'delete', now: Date): Promise<QuotaFullError | null> {
    for (const [span, { limit, ms }] of Object.entries(this.rates)) {
      const window = rateWindow(op, span, limit, ms, now);
      if (!(await this.options.ledger.take(window))) {
        const endsInMs = Date.parse(window.start) + ms - now.getTime();
        return new QuotaFullError(Math.max(1000, endsInMs), `${op}s per ${span === 'pt5m' ? '5 minutes' : 'hour'}`, `${limit} ${op}s in the window that ends in ${Math.ceil(endsInMs / 1000)} s`);
      }
    }
    return null;
  }

  /** The create's (or delete's) headers say how many are left: the windows count at least what that implies. */
  private async raiseFromHeaders(op: 'create' | 'delete', now: Date): Promise<void> {
    const latest = this.options.budget?.latest(op);
    if (!latest) return;
    for (const [span, { limit, ms }] of Object.entries(this.rates)) {
      const remaining = latest[span as keyof RateLimits];
      if (remaining !== null) await this.options.ledger.raise(rateWindow(op, span, limit, ms, now), Math.max(0, limit - remaining));
    }
  }

  private async noteDeferral(jobId: string, reason: string, kind: 'count' | 'rate', now: Date, refusal: QuotaRefusal | null, known?: QuotaFigures): Promise<void> {
    const figures = known ?? (await this.figures(now));
    await this.options.ledger.saveFigures({
      ...figures,
      latestRefusal: refusal ?? figures.latestRefusal,
      latestDeferral: { at: now.toISOString(), jobId, reason, kind },
    });
  }
}

/** Fixed windows aligned to the clock, so every instance names the same one. */
function rateWindow(op: string, span: string, limit: number, ms: number, now: Date): RateWindow {
  return { name: `${op}.${span}`, start: new Date(Math.floor(now.getTime() / ms) * ms).toISOString(), limit };
}
