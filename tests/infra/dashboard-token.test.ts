import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import type { AzureStack } from '../../stacks/azure/azure-stack.js';
import { appSettingsOf, installMocks, isSecret, randomState, registrationsSettled, valueOf, type Recorded } from './pulumi-mocks.js';

const RANDOM_BYTES = 'random:index/randomBytes:RandomBytes';

describe('a generated dashboard token, when none is configured', () => {
  it('is 32 random bytes from @pulumi/random, a secret output and the dashboard’s DASHBOARD_TOKEN, the same across two `pulumi up`s', async () => {
    const resources = await installMocks({ project: 'event-driven-aci', stack: 'dev', config: { 'azure-native:location': 'westeurope' }, secretKeys: [] });
    const { azureStack } = await import('../../stacks/azure/azure-stack.js');
    const { readAzureStackConfig } = await import('../../stacks/azure/config.js');
    const up = async (): Promise<{ stack: AzureStack; generated: Recorded; dashboard: Recorded }> => {
      const before = resources.length;
      const stack = azureStack(readAzureStackConfig(), { exchangeAcrToken: async () => 'acr-refresh-token' });
      await registrationsSettled();
      const declared = resources.slice(before);
      const generated = declared.filter((r) => r.type === RANDOM_BYTES);
      expect(generated).toHaveLength(1);
      const dashboard = declared.find((r) => r.type === 'azure-native:web:WebApp' && r.inputs.kind === 'app,linux,container')!;
      return { stack, generated: generated[0]!, dashboard };
    };

    const first = await up();
    expect(first.generated.inputs).toEqual({ length: 32 });
    const token = await valueOf(first.stack.dashboardToken);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(await isSecret(first.stack.dashboardToken)).toBe(true);
    // The dashboard gets it as its app setting, which the Pulumi state keeps encrypted.
    expect(appSettingsOf(first.dashboard).DASHBOARD_TOKEN).toBe(token);
    expect(JSON.stringify(first.dashboard.plainInputs)).not.toContain(token);

    // A second `pulumi up` with the same state: the same inputs, so the engine keeps the bytes.
    const second = await up();
    expect(second.generated.inputs).toEqual(first.generated.inputs);
    expect(second.generated.name).toBe(first.generated.name);
    expect(await valueOf(second.stack.dashboardToken)).toBe(token);
    expect(await isSecret(second.stack.dashboardToken)).toBe(true);
    expect(randomState.size).toBe(1);
  });

  it('makes nothing when a token is configured: the configured one is the token', async () => {
    const resources = await installMocks({ project: 'event-driven-aci', stack: 'dev', config: {}, secretKeys: [] });
    const { dashboardTokenOf } = await import('../../stacks/azure/dashboard-token.js');
    const configured = pulumi.secret('c'.repeat(40));
    expect(dashboardTokenOf(configured)).toBe(configured);
    await registrationsSettled();
    expect(resources.filter((r) => r.type === RANDOM_BYTES)).toEqual([]);
  });
});
