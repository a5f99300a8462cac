/**
 * ACI's quotas as the ARM fake plays them, kept apart from the lifecycle so each grows alone.
 * Each behaviour and its source:
 *
 * | behaviour | source |
 * |---|---|
 * | A create past the group or cores quota is refused with code `ContainerGroupQuotaReached` and the message `Resource type 'Microsoft.ContainerInstance/containerGroups' container group quota '<quota>' exceeded in region '<r>'. Limit: '<n>', Usage: '<n>' Requested: '<n>'.` | Learn: container-instances-troubleshooting ("ContainerGroupQuotaReached", the `StandardSpotCores` example); MicrosoftDocs/azure-docs#51738 (the `StandardCores` one, Limit '10') |
 * | … answered as 409 or as 400 (the test picks) | public reports show both; no source shows the two bodies side by side, so the body is the same |
 * | Quotas count every group in the subscription and region: other stacks' groups too | Learn: container-instances-resource-and-quota-limits ("per subscription per region") |
 * | `GET …/locations/{location}/usages` answers `{ value: [{ name: { value: 'ContainerGroups', localizedValue: 'Container Groups' }, currentValue, limit, unit: 'Count' }] }` | the REST spec's only `Location_ListUsage` example, ContainerGroupUsage.json (tests/fixtures/azure-rest-api-specs) |
 * | A `StandardCores` row in that answer, when the test asks for one | no source: the spec's example has only ContainerGroups; the row's shape copies it |
 * | The usage read is refused with 403 `AuthorizationFailed` when the identity has no role at subscription scope (the test asks) | ARM's authorization failure (Learn: troubleshoot-authorization-failed); the body's wording has no recorded source |
 * | Each accepted create carries `x-ms-ratelimit-remaining-subscription-resource-requests-pt5m` and `-pt1h`: the creates left in the windows (100, 300); each delete the same, counting deletes | azure-sdk-for-js recording_containergroups_create_test.json (`99`, `299` after one create); recording_containergroups_delete_test.json (the same headers on its DELETE; whether they count deletes apart from creates: no source) |
 */

export interface FakeQuotaOptions {
  /** ContainerGroups' limit in the region (default 100). */
  groupLimit?: number;
  /** StandardCores' limit in the region (default 10). */
  coreLimit?: number;
  /** The status a quota refusal is answered with. */
  refusalStatus?: 409 | 400;
  /** Groups and cores that other stacks in the subscription hold in the region. */
  otherGroups?: number;
  otherCores?: number;
  /** Creates that other stacks in the subscription made in the current windows (they lower the budget headers). */
  otherCreates?: number;
  /** Show a StandardCores row in the usage answer (no source shows one). */
  coresRow?: boolean;
  /** Refuse the usage read with 403, as for an identity with no role at subscription scope. */
  usageDenied?: boolean;
}

export interface HeldGroup {
  cpu: number;
}

export interface FakeAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const USAGES = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.ContainerInstance\/locations\/([^/]+)\/usages$/i;
const CREATE_WINDOWS = { pt5m: { limit: 100, ms: 5 * 60_000 }, pt1h: { limit: 300, ms: 3600_000 } };

export class FakeQuota {
  /** Each quota refusal answered, for the tests to read. */
  readonly refusals: { quota: string; status: number }[] = [];
  private readonly creates: number[] = [];
  private readonly deletes: number[] = [];

  constructor(private readonly options: FakeQuotaOptions = {}) {}

  private get groupLimit(): number {
    return this.options.groupLimit ?? 100;
  }

  private get coreLimit(): number {
    return this.options.coreLimit ?? 10;
  }

  /** Refuses a create that would pass the region's group or cores quota, or answers null. */
  refuseCreate(location: string, cpu: number, held: HeldGroup[]): FakeAnswer | null {
    const groups = held.length + (this.options.otherGroups ?? 0);
    const cores = held.reduce((sum, g) => sum + g.cpu, 0) + (this.options.otherCores ?? 0);
    const over =
      groups + 1 > this.groupLimit
        ? { quota: 'ContainerGroups', limit: this.groupLimit, usage: groups, requested: 1 }
        : cores + cpu > this.coreLimit
          ? { quota: 'StandardCores', limit: this.coreLimit, usage: cores, requested: cpu }
          : null;
    if (!over) return null;
    const status = this.options.refusalStatus ?? 409;
    this.refusals.push({ quota: over.quota, status });
    return {
      status,
      body: {
        error: {
          code: 'ContainerGroupQuotaReached',
          message: `Resource type 'Microsoft.ContainerInstance/containerGroups' container group quota '${over.quota}' exceeded in region '${location}'. Limit: '${over.limit}', Usage: '${over.usage}' Requested: '${over.requested}'.`,
        },
      },
    };
  }

  /** The write budget headers of an accepted create. */
  createHeaders(now = Date.now()): Record<string, string> {
    this.creates.push(now);
    const inWindow = (ms: number) => this.creates.filter((t) => t > now - ms).length + (this.options.otherCreates ?? 0);
    return {
      'x-ms-ratelimit-remaining-subscription-resource-requests-pt5m': String(Math.max(0, CREATE_WINDOWS.pt5m.limit - inWindow(CREATE_WINDOWS.pt5m.ms))),
      'x-ms-ratelimit-remaining-subscription-resource-requests-pt1h': String(Math.max(0, CREATE_WINDOWS.pt1h.limit - inWindow(CREATE_WINDOWS.pt1h.ms))),
    };
  }

  /** The same headers on a DELETE, counting deletes (recording_containergroups_delete_test.json carries them). */
  deleteHeaders(now = Date.now()): Record<string, string> {
    this.deletes.push(now);
    const inWindow = (ms: number) => this.deletes.filter((t) => t > now - ms).length;
    return {
      'x-ms-ratelimit-remaining-subscription-resource-requests-pt5m': String(Math.max(0, CREATE_WINDOWS.pt5m.limit - inWindow(CREATE_WINDOWS.pt5m.ms))),
      'x-ms-ratelimit-remaining-subscription-resource-requests-pt1h': String(Math.max(0, CREATE_WINDOWS.pt1h.limit - inWindow(CREATE_WINDOWS.pt1h.ms))),
    };
  }

  /** `Location_ListUsage`, shaped as ContainerGroupUsage.json. */
  usages(held: HeldGroup[]): FakeAnswer {
    if (this.options.usageDenied) {
      return {
        status: 403,
        body: {
          error: {
            code: 'AuthorizationFailed',
            message: "The client does not have authorization to perform action 'Microsoft.ContainerInstance/locations/usages/read' over scope '/subscriptions/…'.",
          },
        },
      };
    }
    const groups = held.length + (this.options.otherGroups ?? 0);
    const cores = held.reduce((sum, g) => sum + g.cpu, 0) + (this.options.otherCores ?? 0);
    const value = [
      { name: { localizedValue: 'Container Groups', value: 'ContainerGroups' }, currentValue: groups, limit: this.groupLimit, unit: 'Count' },
      ...(this.options.coresRow ? [{ name: { localizedValue: 'Standard Cores', value: 'StandardCores' }, currentValue: cores, limit: this.coreLimit, unit: 'Count' }] : []),
    ];
    return { status: 200, body: { value } };
  }
}
