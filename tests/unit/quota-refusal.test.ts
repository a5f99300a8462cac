import { RestError } from '@azure/core-rest-pipeline';
import { describe, expect, it } from 'vitest';
import { asQuotaRetryLater, quotaRefusalOf } from '../../apps/core/adapters/azure/quota-refusal.js';
import { QuotaRefusedError } from '../../apps/core/domain/quota.js';

// The forms the sources show (quota-refusal.ts cites each), and forms no source shows but that a
// RestError could take: the code only in details, the body only as text.
const AT = new Date('2026-12-04T17:00:00Z');

describe('ACI quota refusals, recognised by code and message whatever the status', () => {
  it('reads azure-docs#51738’s StandardCores refusal, quota and figures', () => {
    const error = new RestError(
      "Resource type 'Microsoft.ContainerInstance/containerGroups' container group quota 'StandardCores' exceeded in region 'eastus'. Limit: '10', Usage: '10' Requested: '1'.",
      { code: 'ContainerGroupQuotaReached', statusCode: 400 },
    );
    expect(quotaRefusalOf(error, AT)).toEqual({
      quota: 'StandardCores', kind: 'count', region: 'eastus', limit: 10, usage: 10, requested: 1, code: 'ContainerGroupQuotaReached', at: AT.toISOString(),
    });
  });

  it('reads Learn’s StandardSpotCores example and the support article’s ServiceUnavailable form', () => {
    const spot = new RestError("Resource type 'Microsoft.ContainerInstance/containerGroups' container group quota 'StandardSpotCores' exceeded in region 'westus'. Limit: '100', Usage: '12' Requested: '90'.", { code: 'ContainerGroupQuotaReached', statusCode: 409 });
    expect(quotaRefusalOf(spot, AT)).toMatchObject({ quota: 'StandardSpotCores', limit: 100, usage: 12, requested: 90 });
    const unavailable = new RestError("Resource type 'Microsoft.ContainerInstance/containerGroups' container group quota 'ContainerGroups' exceeded in region 'westus'. Limit: '0', Usage: '0' Requested: '1'.", { code: 'ServiceUnavailable', statusCode: 503 });
    expect(quotaRefusalOf(unavailable, AT)).toMatchObject({ quota: 'ContainerGroups', limit: 0, usage: 0, requested: 1, code: 'ServiceUnavailable' });
  });

  it('finds the code in details or the body text when the top level lacks it', () => {
    const nested = Object.assign(new Error('conflict'), { statusCode: 409, details: { error: { code: 'ContainerGroupQuotaReached', message: "container group quota 'ContainerGroups' exceeded in region 'x'. Limit: '100', Usage: '100' Requested: '1'." } } });
    expect(quotaRefusalOf(nested, AT)).toMatchObject({ quota: 'ContainerGroups', limit: 100, code: 'ContainerGroupQuotaReached' });
    const text = Object.assign(new Error('bad request'), { statusCode: 400, response: { bodyAsText: JSON.stringify({ error: { code: 'ContainerGroupQuotaReached', message: 'no figures here' } }) } });
    expect(quotaRefusalOf(text, AT)).toMatchObject({ quota: 'ContainerGroups', limit: null, code: 'ContainerGroupQuotaReached' });
  });

  it('takes a rate refusal’s wait from its message', () => {
    const throttled = new RestError("Number of requests for action 'Microsoft.ContainerInstance/containerGroups/write' exceeded the limit of '100' for time interval '00:05:00'. Please try again after '372' seconds.", { code: 'ResourceRequestsThrottled', statusCode: 429 });
    const retry = asQuotaRetryLater(throttled, 15_000, AT) as QuotaRefusedError;
    expect(retry).toBeInstanceOf(QuotaRefusedError);
    expect(retry.retryAfterMs).toBe(372_000);
    expect(retry.refusal).toMatchObject({ quota: 'requests per 00:05:00', kind: 'rate', limit: 100 });
  });

  it('leaves every other error as it is', () => {
    const other = new RestError('The image could not be pulled', { code: 'InaccessibleImage', statusCode: 400 });
    expect(quotaRefusalOf(other)).toBeNull();
    expect(asQuotaRetryLater(other, 1000)).toBe(other);
  });
});
