import * as pulumi from '@pulumi/pulumi';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { exchangeAcrRefreshToken } from '../../components/acr-token.js';
import { withoutSslParameter } from '../../components/connection-strings.js';
import { readAzureStackConfig } from '../../stacks/azure/config.js';
import { stackNames } from '../../stacks/azure/naming.js';

describe('withoutSslParameter', () => {
  it('removes ssl and keeps every other parameter, in order', () => {
    expect(withoutSslParameter('mongodb://a:b@h:10255/?ssl=true&replicaSet=globaldb&retrywrites=false')).toBe(
      'mongodb://a:b@h:10255/?replicaSet=globaldb&retrywrites=false',
    );
    expect(withoutSslParameter('mongodb://h/?replicaSet=x&SSL=true&appName=@a@')).toBe('mongodb://h/?replicaSet=x&appName=@a@');
    expect(withoutSslParameter('mongodb://h/?ssl=true')).toBe('mongodb://h/');
    expect(withoutSslParameter('mongodb://h/db')).toBe('mongodb://h/db');
    // Only the ssl parameter itself: sslValidate and tls are other parameters.
    expect(withoutSslParameter('mongodb://h/?sslValidate=false&ssl=true&tls=true')).toBe('mongodb://h/?sslValidate=false&tls=true');
  });
});

describe('stackNames', () => {
  const rules: Record<string, RegExp> = {
    storageAccount: /^[a-z0-9]{3,24}$/,
    registry: /^[a-zA-Z0-9]{5,50}$/,
    serviceBusNamespace: /^[a-zA-Z][a-zA-Z0-9-]{4,48}[a-zA-Z0-9]$/,
    cosmosAccount: /^(?=.{3,44}$)[a-z0-9]+(-[a-z0-9]+)*$/,
    dashboardApp: /^(?=.{2,60}$)[a-z0-9]+(-[a-z0-9]+)*$/,
    spawnerApp: /^(?=.{2,60}$)[a-z0-9]+(-[a-z0-9]+)*$/,
    resourceGroup: /^[-\w.()]{1,90}$/,
    pullIdentity: /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/,
    spawnerRoleId: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  };
  const stacks = ['dev', 'dev-alexandra-with-a-long-stack-name-40c', 'A', 'x'.repeat(100), 'Team_Blue.Feature--42', '---', '日本'];
  const names = (subscriptionId: string, organization: string, project: string, stack: string) =>
    stackNames({ subscriptionId, organization, project, stack });

  it('keeps every name valid, whatever the stack is called', () => {
    for (const stack of stacks) {
      const derived = names('sub-1', 'organization', 'event-driven-aci', stack);
      for (const [key, rule] of Object.entries(rules)) expect(derived[key as keyof typeof derived], `${stack}: ${key}`).toMatch(rule);
    }
  });

  it('is deterministic, and keeps stacks apart in one subscription and across subscriptions', () => {
    expect(names('s', 'o', 'p', 'dev')).toEqual(names('s', 'o', 'p', 'dev'));
    const a = names('s', 'o', 'p', 'x'.repeat(60) + 'a');
    const b = names('s', 'o', 'p', 'x'.repeat(60) + 'b');
    expect(a.storageAccount).not.toBe(b.storageAccount);
    expect(a.registry).not.toBe(b.registry);
    expect(a.resourceGroup).not.toBe(b.resourceGroup);
    expect(names('s1', 'o', 'p', 'dev').registry).not.toBe(names('s2', 'o', 'p', 'dev').registry);
  });

  it("keeps two organizations' stacks of the same name apart in one subscription", () => {
    const a = names('s', 'acme', 'event-driven-aci', 'dev');
    const b = names('s', 'globex', 'event-driven-aci', 'dev');
    for (const key of Object.keys(a) as (keyof typeof a)[]) {
      // Only names inside the stack's own resource group may repeat; that group differs.
      if (['dashboardPlan', 'spawnerPlan', 'pullIdentity', 'spawnerIdentity', 'dashboardIdentity'].includes(key)) continue;
      expect(a[key], key).not.toBe(b[key]);
    }
    // The parts are kept apart: moving a character between organization and project changes the names.
    expect(names('s', 'ab', 'c', 'dev').registry).not.toBe(names('s', 'a', 'bc', 'dev').registry);
  });
});

describe('exchangeAcrRefreshToken', () => {
  it('posts the Azure AD token to /oauth2/exchange as az acr login does, and returns the refresh token', async () => {
    const seen: { url?: string; type?: string; body?: string } = {};
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        Object.assign(seen, { url: req.url, type: req.headers['content-type'], body });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ refresh_token: 'acr-refresh' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(exchangeAcrRefreshToken('acrx.azurecr.io', 'aad', 'tenant-1', endpoint)).resolves.toBe('acr-refresh');
      expect(seen.url).toBe('/oauth2/exchange');
      expect(seen.type).toBe('application/x-www-form-urlencoded');
      expect(Object.fromEntries(new URLSearchParams(seen.body))).toEqual({
        grant_type: 'access_token',
        service: 'acrx.azurecr.io',
        tenant: 'tenant-1',
        access_token: 'aad',
      });
    } finally {
      server.close();
    }
  });

  it('says clearly when the registry refuses', async () => {
    const server = createServer((_req, res) => res.writeHead(401).end('unauthorized: not allowed'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(exchangeAcrRefreshToken('acrx.azurecr.io', 'aad', 't', endpoint)).rejects.toThrow(
        'ACR acrx.azurecr.io refused the token exchange (HTTP 401): unauthorized: not allowed',
      );
    } finally {
      server.close();
    }
  });
});

describe('readAzureStackConfig', () => {
  beforeAll(async () => {
    // Config is read under the project's name, which the mocks set.
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: () => ({}) }, 'event-driven-aci', 'dev');
  });
  const base = { 'azure-native:location': 'westeurope', 'event-driven-aci:dashboardToken': 't'.repeat(32) };
  const withConfig = (extra: Record<string, string>) => {
    pulumi.runtime.setAllConfig({ ...base, ...extra }, ['event-driven-aci:dashboardToken']);
    return () => readAzureStackConfig();
  };

  it('has defaults for everything optional', () => {
    const config = withConfig({})();
    expect(config).toMatchObject({ location: 'westeurope', workerCpu: 1, workerMemoryGb: 1.5, maxConcurrent: 20, dashboardSku: 'B1', deployerPrincipalType: 'User' });
    expect(config).toMatchObject({ containerGroupQuota: 100, coreQuota: 10 });
  });

  it('stops with a message that names the bad value', () => {
    expect(withConfig({ 'event-driven-aci:workerCpu': '8' })).toThrow('config event-driven-aci:workerCpu must be a number from 0.1 to 4 (got "8")');
    expect(withConfig({ 'event-driven-aci:maxConcurrent': '2.5' })).toThrow('config event-driven-aci:maxConcurrent must be a whole number from 1 to 1000 (got "2.5")');
    expect(withConfig({ 'event-driven-aci:containerGroupQuota': '0' })).toThrow('config event-driven-aci:containerGroupQuota must be a whole number from 1 to 10000 (got "0")');
    expect(withConfig({ 'event-driven-aci:coreQuota': 'ten' })).toThrow('config event-driven-aci:coreQuota must be a number from 0.1 to 100000 (got "ten")');
    expect(withConfig({ 'event-driven-aci:dashboardSku': 'F1' })).toThrow(/dashboardSku must be a Linux App Service plan SKU .* \(got "F1"\)/);
    expect(withConfig({ 'event-driven-aci:deployerPrincipalType': 'Robot' })).toThrow(/deployerPrincipalType must be User or ServicePrincipal \(got "Robot"\)/);
    pulumi.runtime.setAllConfig({ 'event-driven-aci:dashboardToken': 'x'.repeat(32) }, []);
    expect(() => readAzureStackConfig()).toThrow(/azure-native:location is required/);
  });
});
