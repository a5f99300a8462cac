import { RetryLaterError } from './container-runtime.port.js';

/**
 * What a platform's refusal said of one of its quotas. ACI names the quota and gives its figures
 * in the message (Learn: container-instances-troubleshooting, `ContainerGroupQuotaReached`;
 * MicrosoftDocs/azure-docs#51738): `quota 'StandardCores' exceeded in region 'eastus'. Limit:
 * '10', Usage: '10' Requested: '1'`. A figure the message did not carry is null.
 */
export interface QuotaRefusal {
  /** The quota's name as the platform gives it (`StandardCores`, `ContainerGroups`), or the rate's. */
  quota: string;
  /** What kind of limit it is: a count that frees up as groups go, or a rate over a window. */
  kind: 'count' | 'rate';
  region: string | null;
  limit: number | null;
  usage: number | null;
  requested: number | null;
  /** The platform's own code (`ContainerGroupQuotaReached`, `ResourceRequestsThrottled`, …). */
  code: string;
  /** ISO time the refusal was seen. */
  at: string;
}

/**
 * A start the platform refused for a quota: retry-later, never a failed delivery. The message
 * names the quota and its figures, so the deferral's reason (and, past the start wait, the
 * task's failure) says which quota kept it out.
 */
export class QuotaRefusedError extends RetryLaterError {
  constructor(
    retryAfterMs: number,
    readonly refusal: QuotaRefusal,
  ) {
    super(retryAfterMs, describeRefusal(refusal));
  }
}

/** `quota 'StandardCores' (limit 10, usage 10, requested 1)`: the words a person reads. */
export function describeRefusal(refusal: QuotaRefusal): string {
  const figures = [
    refusal.limit !== null ? `limit ${refusal.limit}` : null,
    refusal.usage !== null ? `usage ${refusal.usage}` : null,
    refusal.requested !== null ? `requested ${refusal.requested}` : null,
  ].filter((part) => part !== null);
  const region = refusal.region ? ` in region ${refusal.region}` : '';
  return `ACI refused the create: quota '${refusal.quota}'${region} reached${figures.length ? ` (${figures.join(', ')})` : ''} [${refusal.code}]`;
}

/**
 * A create this stack keeps back before asking Azure, because a count it keeps (groups, cores,
 * creates per window) has no room: retry-later too, naming what is full.
 */
export class QuotaFullError extends RetryLaterError {
  constructor(
    retryAfterMs: number,
    readonly quota: string,
    detail: string,
  ) {
    super(retryAfterMs, `deferred: quota '${quota}' is full (${detail})`);
  }
}
