import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { CreateBudget } from '../../domain/region-usage.port.js';

// The resource provider's own write budget, on each create's response. The SDK's recorded
// create (azure-sdk-for-js, containerinstance_test recording_containergroups_create_test.json)
// carries `-pt5m: 99` and `-pt1h: 299`; its GETs carry only `x-ms-ratelimit-remaining-subscription-reads`.
// The delete recording (recording_containergroups_delete_test.json) carries the same two on its DELETE.
const PT5M = 'x-ms-ratelimit-remaining-subscription-resource-requests-pt5m';
const PT1H = 'x-ms-ratelimit-remaining-subscription-resource-requests-pt1h';

/**
 * Reads the remaining budget from every container group PUT's (create) and DELETE's response,
 * as a pipeline policy on the ACI client, so the runtime's own code is untouched. A response
 * without the headers leaves the last reading as it was.
 */
export class CreateBudgetHeaders implements CreateBudget {
  private readonly readings: Record<'create' | 'delete', { pt5m: number | null; pt1h: number | null } | null> = { create: null, delete: null };

  latest(op: 'create' | 'delete' = 'create'): { pt5m: number | null; pt1h: number | null } | null {
    return this.readings[op];
  }

  policy(): PipelinePolicy {
    return {
      name: 'aciCreateBudget',
      sendRequest: async (request, next) => {
        const response = await next(request);
        const op = request.method === 'PUT' ? 'create' : request.method === 'DELETE' ? 'delete' : null;
        if (op && /\/containerGroups\/[^/?]+(\?|$)/i.test(request.url)) {
          const read = (name: string) => {
            const value = response.headers.get(name);
            return value === undefined || value === '' || Number.isNaN(Number(value)) ? null : Number(value);
          };
          const pt5m = read(PT5M);
          const pt1h = read(PT1H);
          if (pt5m !== null || pt1h !== null) this.readings[op] = { pt5m, pt1h };
        }
        return response;
      },
    };
  }
}
