import type { StartFailure } from '../../domain/container-runtime.port.js';

/**
 * Which errors of ARM and ACI are the platform's (capacity, an outage, a grant still
 * propagating: the start is tried again later, bounded by the kind's start wait) and which are
 * the kind's own (a request that can never succeed: the task fails with ACI's message). One
 * table per question, so the quota codes (issue 22) go in beside these, not into them.
 *
 * Sources (tests/fakes/FAKE-ARM-SOURCES.md lists them with the fake's behaviours):
 * - ARM's transient answers: 429 (after the SDK's own Retry-After retries), 500, 502, 503, 504
 *   (https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling,
 *   https://learn.microsoft.com/azure/architecture/best-practices/retry-service-specific).
 * - ACI's capacity refusal, `ServiceUnavailable` "The requested resource … is not available in
 *   the location … at this moment", and `InaccessibleImage` (Learn: container-instances-troubleshooting).
 * - `AuthorizationFailed` / `LinkedAuthorizationFailed`: a role grant not yet propagated
 *   (Learn: role-based-access-control/troubleshooting, "changes can take up to 10 minutes").
 */

/** ARM error codes that are the platform's, never the kind's: retried later. */
export const RETRY_LATER_CODES: ReadonlySet<string> = new Set([
  'ServiceUnavailable',
  'InternalServerError',
  'InternalError',
  'ServerBusy',
  'GatewayTimeout',
  'TooManyRequests',
  'RequestTimeout',
  'Conflict',
  'AnotherOperationInProgress',
  'OperationNotAllowed',
  // The pull identity's AcrPull grant can take minutes to reach the registry; a missing image
  // looks the same from here. Either ends Failed with ACI's message once the start wait is over.
  'InaccessibleImage',
  'RegistryErrorResponse',
  'AuthorizationFailed',
  'LinkedAuthorizationFailed',
  'SkuNotAvailable',
]);

/** HTTP statuses that are transient whatever the code. */
const RETRY_LATER_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Network failures of the SDK's pipeline (core-rest-pipeline's RestError codes, Node's errno). */
const RETRY_LATER_NETWORK = new Set(['REQUEST_SEND_ERROR', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/** Codes that are the kind's own request: it can never succeed as it stands. */
export const KIND_CODES: ReadonlySet<string> = new Set([
  'InvalidRequestContent',
  'InvalidImage',
  'InvalidContainerGroupName',
  'InvalidCommand',
  'ResourceRequestsNotAvailable',
  'InvalidEnvironmentVariable',
]);

export type ArmErrorClass = 'retry-later' | 'kind' | 'unknown';

export interface ClassifiedArmError {
  class: ArmErrorClass;
  code: string;
  message: string;
}

interface ErrorLike {
  name?: string;
  code?: string;
  statusCode?: number;
  message?: string;
  details?: { error?: { code?: string; message?: string } };
}

/** What a failed ARM call (a thrown RestError, AbortError or network error) says about itself. */
export function classifyArmError(error: unknown): ClassifiedArmError {
  const e = (error ?? {}) as ErrorLike;
  // RestError.code is ARM's error code where the body had one (`{ error: { code, message } }`).
  const code = e.details?.error?.code ?? e.code ?? e.name ?? 'Error';
  const message = e.details?.error?.message ?? e.message ?? String(error);
  if (e.name === 'AbortError') return { class: 'retry-later', code: 'AbortError', message: `the ARM call was aborted: ${message}` };
  if (RETRY_LATER_CODES.has(code) || RETRY_LATER_NETWORK.has(code)) return { class: 'retry-later', code, message };
  if (e.statusCode !== undefined && RETRY_LATER_STATUSES.has(e.statusCode)) return { class: 'retry-later', code, message };
  if (KIND_CODES.has(code) || e.statusCode === 400) return { class: 'kind', code, message };
  return { class: 'unknown', code, message };
}

/** What a provisioning failure's events may say (no source shows its body: every plausible form). */
const PLATFORM_TEXT = /not available in the location|capacity|ServiceUnavailable|InternalServerError|try again|pull|Inaccessible|unauthorized|denied|manifest unknown|not found|ErrImagePull|ImagePullBackOff|timed? ?out/i;
const KIND_TEXT = /executable file not found|exec format error|no such file or directory|invalid (command|argument)|StartError|OCI runtime/i;

/**
 * A group whose provisioning failed after ARM accepted it: no container ran. Its cause, read
 * from whatever events and states the group carries. A bad command is the kind's own; anything
 * else (capacity, a pull refused or not found, a cause not shown) is the platform's, retried
 * while the start wait lasts, then Failed with the message.
 */
export function classifyProvisioningFailure(texts: { code?: string | null; message: string }[]): StartFailure {
  const said = texts.filter((t) => t.message || t.code);
  const kind = said.find((t) => (t.code && KIND_CODES.has(t.code)) || KIND_TEXT.test(t.message));
  if (kind) return { code: kind.code && KIND_CODES.has(kind.code) ? kind.code : 'ContainerStartFailed', message: kind.message, platform: false };
  const platform = said.find((t) => (t.code && RETRY_LATER_CODES.has(t.code)) || PLATFORM_TEXT.test(t.message));
  const first = platform ?? said[0];
  if (!first) return { code: 'ProvisioningFailed', message: 'ACI reported the group Failed and gave no reason', platform: true };
  const known = first.code && (RETRY_LATER_CODES.has(first.code) || KIND_CODES.has(first.code)) ? first.code : null;
  return { code: known ?? (/pull|Inaccessible|manifest/i.test(first.message) ? 'InaccessibleImage' : 'ProvisioningFailed'), message: first.message, platform: true };
}
