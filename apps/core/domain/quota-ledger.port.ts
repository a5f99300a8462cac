import type { QuotaRefusal } from './quota.js';

/** One figure of a quota: how much is used of how much, and where the figure came from. */
export interface QuotaFigure {
  used: number;
  limit: number;
  /** `usage`: Azure's usage read; `refusal`: the latest refusal's figures; `store`: this stack's own count; `setting`: the stack's setting. */
  source: 'usage' | 'refusal' | 'store' | 'setting';
}

/**
 * What the spawner last read of its quotas, for the dashboard (which may only read the
 * resource group, so it cannot ask Azure itself): kept as one small document in the store.
 */
export interface QuotaFigures {
  /** ISO time of the read. */
  at: string;
  /** This stack's own groups and cores, as its store counts them. */
  own: { groups: number; cores: number };
  groups: QuotaFigure;
  cores: QuotaFigure;
  /** The usage read was refused (no role at subscription scope): the figures come from the store and the latest refusal. */
  usageDenied: boolean;
  latestRefusal: QuotaRefusal | null;
  /** The latest deferral for a quota: why, when, and whether a count (groups, cores) or a rate kept it out. */
  latestDeferral: { at: string; jobId: string; reason: string; kind: 'count' | 'rate' } | null;
}

/** One window of a rate (creates or deletes per 5 minutes, per hour), fixed and aligned to the clock. */
export interface RateWindow {
  /** `create.pt5m`, `delete.pt1h`, … */
  name: string;
  /** ISO start of the window. */
  start: string;
  limit: number;
}

/**
 * The counts that every Function instance shares, kept in the store so that no instance counts
 * alone (never in memory): the groups this stack holds and the cores they asked for, the
 * create and delete windows, and the figures shown on the dashboard. Every write is
 * conditional, so instances racing each other never count past a limit.
 */
export interface QuotaLedger {
  /**
   * Counts a group from before its create until its delete. True when this call claimed it; a
   * second claim of one name (a redelivery) changes nothing and answers false.
   */
  claimGroup(name: string, cores: number, at: Date): Promise<boolean>;
  /** Stops counting a group; with `claimedBefore`, only a claim made before then. */
  releaseGroup(name: string, claimedBefore?: Date): Promise<void>;
  /** The groups claimed at or after `since` (older claims are leftovers of a crash), and their cores. */
  claimed(since: Date): Promise<{ groups: number; cores: number }>;
  /** Takes one from the window unless it is full; true when taken. */
  take(window: RateWindow): Promise<boolean>;
  /** Raises the window's count to at least `used` (the platform said so in its headers). */
  raise(window: RateWindow, used: number): Promise<void>;
  saveFigures(figures: QuotaFigures): Promise<void>;
  readFigures(): Promise<QuotaFigures | null>;
}
