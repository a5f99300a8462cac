import type { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { errorMessage } from '../../domain/errors.js';
import type { RegionUsage, UsageReading, UsageRow } from '../../domain/region-usage.port.js';

/**
 * The region's ACI usage for the whole subscription (`GET /subscriptions/{id}/providers/
 * Microsoft.ContainerInstance/locations/{location}/usages`, `Location_ListUsage`): every stack's
 * groups, not only this one's. The spec's only example (ContainerGroupUsage.json, vendored in
 * tests/fixtures) answers one row, `ContainerGroups`; no source shows a cores row, so the
 * spawner takes a row named `StandardCores` or `Cores` as one when it comes (quota-guard.ts). The read needs
 * `Microsoft.ContainerInstance/locations/usages/read` at subscription scope; without it ARM
 * answers 403, and the reading says so instead of throwing.
 */
export class AciUsage implements RegionUsage {
  constructor(
    private readonly client: ContainerInstanceManagementClient,
    private readonly location: string,
  ) {}

  async read(): Promise<UsageReading> {
    try {
      const rows: UsageRow[] = [];
      for await (const usage of this.client.location.listUsage(this.location)) {
        const name = usage.name?.value ?? usage.id ?? '';
        if (name && typeof usage.currentValue === 'number' && typeof usage.limit === 'number') rows.push({ name, used: usage.currentValue, limit: usage.limit });
      }
      return { rows };
    } catch (error) {
      const status = (error as { statusCode?: number } | null)?.statusCode;
      if (status === 403 || status === 401) return { denied: errorMessage(error) };
      throw error;
    }
  }
}
