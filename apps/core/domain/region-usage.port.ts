/** One row of the platform's usage answer: a quota's name, how much of it is used, and its limit. */
export interface UsageRow {
  /** As the platform names it (`ContainerGroups`; a cores row's name has no source, see aci-usage.ts). */
  name: string;
  used: number;
  limit: number;
}

/** The rows, or why the read was refused (no right to read at subscription scope). */
export type UsageReading = { rows: UsageRow[] } | { denied: string };

/** The region's usage of the platform's quotas, shared by every stack in the subscription. */
export interface RegionUsage {
  read(): Promise<UsageReading>;
}

/** What the platform said of the remaining budget on its latest create or delete (response headers). */
export interface CreateBudget {
  /** Creates (or deletes) left in the current 5-minute and hourly windows; null where a header was absent. */
  latest(op?: 'create' | 'delete'): { pt5m: number | null; pt1h: number | null } | null;
}
