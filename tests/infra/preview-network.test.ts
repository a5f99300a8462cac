import * as pulumi from '@pulumi/pulumi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR_TOKEN_USER, exchangeAcrRefreshToken } from '../../components/acr-token.js';
import { guardNetwork, type Attempt } from './network-guard.js';
import { mockedAzureStack, TOKEN, type Recorded } from './pulumi-mocks.js';

// The real exchange (components/acr-token.ts), not a stand-in: what it would send is what is checked.
const target = (stack: string, preview: boolean) => ({
  stack,
  preview,
  config: { 'azure-native:location': 'westeurope', 'event-driven-aci:dashboardToken': TOKEN },
  secretKeys: ['event-driven-aci:dashboardToken'],
  exchangeAcrToken: exchangeAcrRefreshToken,
});
const REGISTRY_HOST = /\.azurecr\.io$/;

// The registry's answer to the exchange (the body `az acr login` reads: refresh_token), given
// in preview too, so that a preview which did call would finish and fail on what it sent.
const registryAnswers = (attempt: Attempt) =>
  attempt.via === 'fetch' && REGISTRY_HOST.test(attempt.host)
    ? new Response(JSON.stringify({ refresh_token: 'refresh-token-from-the-registry' }), { headers: { 'content-type': 'application/json' } })
    : undefined;

const images = (resources: Recorded[]) => resources.filter((r) => r.type === 'docker:index/image:Image');

describe('pulumi preview of the Azure stack, under preview mocks (isDryRun)', () => {
  let resources: Recorded[];
  let attempts: Attempt[];

  beforeAll(async () => {
    const guard = guardNetwork(registryAnswers);
    try {
      ({ resources } = await mockedAzureStack(target('dev', true)));
    } finally {
      guard.restore();
    }
    attempts = guard.attempts;
  }, 60_000);

  it('sends no request: none to the registry, none anywhere (the mocks stand for ARM)', () => {
    expect(attempts.filter((a) => REGISTRY_HOST.test(a.host))).toEqual([]);
    expect(attempts).toEqual([]);
  });

  it('skipped the exchange although everything it needs was known: the registry, the deployer’s token', () => {
    // Were the login server unknown, the exchange's apply would not have run at all, and the
    // first test would pass for that reason alone.
    expect(images(resources).length).toBeGreaterThan(0);
    for (const image of images(resources)) {
      expect(image.inputs.registry.server).toMatch(REGISTRY_HOST);
      expect(image.inputs.registry.username).toBe(ACR_TOKEN_USER);
      // Known at `up`, not in preview: the password is shown as unknown.
      expect(pulumi.isUnknown(image.inputs.registry.password), JSON.stringify(image.inputs.registry.password)).toBe(true);
    }
  });
});

describe('pulumi up of the same stack, under the same guard: the guard sees the exchange', () => {
  let resources: Recorded[];
  let attempts: Attempt[];
  const restores: (() => void)[] = [];

  beforeAll(async () => {
    const guard = guardNetwork(registryAnswers);
    restores.push(guard.restore);
    try {
      ({ resources } = await mockedAzureStack(target('dev-up', false)));
    } finally {
      guard.restore();
    }
    attempts = guard.attempts;
  }, 60_000);
  afterAll(() => restores.forEach((restore) => restore()));

  it('calls the registry’s /oauth2/exchange once, and nothing else', () => {
    expect(attempts).toEqual([{ via: 'fetch', host: expect.stringMatching(REGISTRY_HOST), url: expect.stringMatching(/^https:\/\/[^/]+\.azurecr\.io\/oauth2\/exchange$/) }]);
    for (const image of images(resources)) expect(image.inputs.registry.password).toBe('refresh-token-from-the-registry');
  });
});
