import { QuotaRefusedError, type QuotaRefusal } from '../../domain/quota.js';

/**
 * ACI's quota refusals, recognised by their code whatever the HTTP status (the sources show the
 * same refusal as 409, 400 and, for a region with no quota at all, 503):
 *
 * | code | status seen | message | source |
 * |---|---|---|---|
 * | `ContainerGroupQuotaReached` | 409, 400 | `Resource type 'Microsoft.ContainerInstance/containerGroups' container group quota 'StandardSpotCores' exceeded in region '<r>'. Limit: '100', Usage: '12' Requested: '90'.` | Learn: container-instances-troubleshooting ("ContainerGroupQuotaReached") |
 * | (the same message, code not quoted) | — | `… container group quota 'StandardCores' exceeded in region 'eastus'. Limit: '10', Usage: '10' Requested: '1'.` | MicrosoftDocs/azure-docs#51738 |
 * | `ServiceUnavailable` | 503 | `… container group quota 'ContainerGroups' exceeded in region '<region>'. Limit: '0', Usage: '0' Requested: '1'.` | Learn (support): service-unavailable-container-group-quota-exceeded |
 * | `ResourceRequestsThrottled`, `TooManyRequests`, `SubscriptionRequestsThrottled` | 429 | `Number of requests for action '…' exceeded the limit of '100' for time interval '00:05:00'. Please try again after '372' seconds.` | Learn: request-limits-and-throttling; Azure/azqr#34 (the message) |
 *
 * No source shows the 400 and 409 bodies side by side: every status is read alike. The SDK's
 * RestError carries the body's `code` and `message`; a body that only reached `details` or
 * the raw response text is read too (every plausible form).
 */
const QUOTA_CODES = new Set(['ContainerGroupQuotaReached']);
const RATE_CODES = new Set(['ResourceRequestsThrottled', 'TooManyRequests', 'SubscriptionRequestsThrottled']);
const QUOTA_MESSAGE = /quota '([^']+)' exceeded in region '([^']*)'/i;
const FIGURE = (label: string) => new RegExp(`${label}:\\s*'?(\\d+(?:\\.\\d+)?)'?`, 'i');
const RATE_MESSAGE = /exceeded the limit of '(\d+)' for time interval '([^']+)'/i;
const TRY_AFTER = /try again after '(\d+)' seconds/i;

interface ErrorShape {
  code?: unknown;
  message?: unknown;
  statusCode?: unknown;
  details?: { error?: { code?: unknown; message?: unknown } };
  response?: { bodyAsText?: unknown };
}

/** The code and message of an ARM error, from wherever the SDK left them. */
function codeAndMessage(error: unknown): { code: string; message: string } {
  const shape = (error ?? {}) as ErrorShape;
  let code = typeof shape.code === 'string' ? shape.code : '';
  let message = typeof shape.message === 'string' ? shape.message : '';
  const inner = shape.details?.error;
  if (inner && typeof inner.code === 'string' && (!code || !QUOTA_CODES.has(code))) code = inner.code;
  if (inner && typeof inner.message === 'string' && !QUOTA_MESSAGE.test(message)) message = `${message} ${inner.message}`;
  const text = shape.response?.bodyAsText;
  if (typeof text === 'string' && text.startsWith('{')) {
    try {
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      if (!code && typeof body.error?.code === 'string') code = body.error.code;
      if (typeof body.error?.message === 'string' && !message.includes(body.error.message)) message = `${message} ${body.error.message}`;
    } catch {
      // Not JSON after all: the code and message already read stand.
    }
  }
  return { code, message };
}

function figure(message: string, label: string): number | null {
  const match = FIGURE(label).exec(message);
  return match ? Number(match[1]) : null;
}

/** The quota an ARM error refused for, or null when it is not a quota refusal. */
export function quotaRefusalOf(error: unknown, now = new Date()): QuotaRefusal | null {
  const { code, message } = codeAndMessage(error);
  const at = now.toISOString();
  const quota = QUOTA_MESSAGE.exec(message);
  if (QUOTA_CODES.has(code) || quota) {
    return {
      quota: quota?.[1] ?? 'ContainerGroups',
      kind: 'count',
      region: quota?.[2] || null,
      limit: figure(message, 'Limit'),
      usage: figure(message, 'Usage'),
      requested: figure(message, 'Requested'),
      code: code || 'unknown',
      at,
    };
  }
  if (RATE_CODES.has(code)) {
    const rate = RATE_MESSAGE.exec(message);
    return {
      quota: rate ? `requests per ${rate[2]}` : 'requests',
      kind: 'rate',
      region: null,
      limit: rate ? Number(rate[1]) : null,
      usage: null,
      requested: null,
      code,
      at,
    };
  }
  return null;
}

/**
 * A quota refusal as the port's retry-later error, naming the quota; any other error is
 * returned as it is. A rate refusal waits as long as ARM asked (its message or Retry-After);
 * a count frees up as groups end, so it waits `backoffMs`.
 */
export function asQuotaRetryLater(error: unknown, backoffMs: number, now = new Date()): unknown {
  const refusal = quotaRefusalOf(error, now);
  if (!refusal) return error;
  const { message } = codeAndMessage(error);
  const asked = TRY_AFTER.exec(message);
  const retryAfter = Number((error as { response?: { headers?: { get?(name: string): string | undefined } } })?.response?.headers?.get?.('retry-after'));
  const waitMs = asked ? Number(asked[1]) * 1000 : Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : backoffMs;
  return new QuotaRefusedError(waitMs, refusal);
}
