import { beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers.js';
import { evaluateTemplate } from './arm-template.js';
import { deploymentParametersOf, installMocks, registrationsSettled, SUBSCRIPTION, type Recorded } from './pulumi-mocks.js';

const DIGEST_1 = '1'.repeat(64);
const DIGEST_2 = '2'.repeat(64);

describe('the Function package is deployed with OneDeploy, again only when its digest changes', () => {
  let resources: Recorded[];

  beforeAll(async () => {
    resources = await installMocks({ project: 'event-driven-aci', stack: 'dev', config: {}, secretKeys: [] });
    const { SpawnerFunction } = await import('../../components/spawner-function.js');
    const packageDir = tempDir();
    // The same app three times, as three `pulumi up` runs would declare it: the same package
    // twice, an hour apart, then a new one.
    const declare = (name: string, packageHash: string) =>
      new SpawnerFunction(name, {
        resourceGroupName: 'rg-eda-dev',
        location: 'westeurope',
        subscriptionId: SUBSCRIPTION,
        storageAccountName: 'stedadev12345678',
        planName: 'plan-eda-spawner-dev',
        appName: 'func-eda-dev-12345678',
        packageDir: packageDir.path,
        packageHash,
        identity: { id: '/subscriptions/s/resourceGroups/rg/providers/id/spawner', clientId: 'client', principalId: 'principal' },
        grants: [],
        serviceBusNamespace: 'sb.servicebus.windows.net',
        maxInstances: 10,
        settings: {},
      });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    declare('first', DIGEST_1);
    vi.setSystemTime(new Date('2030-01-01T01:00:00Z'));
    declare('second', DIGEST_1);
    declare('third', DIGEST_2);
    vi.useRealTimers();
    await registrationsSettled();
    packageDir.remove();
  }, 60_000);

  const deploymentOf = (run: string) => {
    const found = resources.filter((r) => r.type === 'azure-native:resources:Deployment' && r.name.startsWith(`${run}-`));
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  const parametersOf = deploymentParametersOf;

  it('declares the same deployment for the same package, whenever it runs: Pulumi sees no change and ARM is not called', () => {
    expect(deploymentOf('second').inputs.properties).toEqual(deploymentOf('first').inputs.properties);
    // The deployment's own name comes from the component's name alone.
    expect(deploymentOf('first').inputs.deploymentName).toBe('first-deploy-onedeploy');
  });

  it('declares a new package path for a new digest, and nothing else changes', () => {
    const before = parametersOf(deploymentOf('first'));
    const after = parametersOf(deploymentOf('third'));
    const changed = Object.keys(after).filter((key) => JSON.stringify(after[key]) !== JSON.stringify(before[key]));
    expect(changed.sort()).toEqual(['packageCanonicalPath', 'packageUrl']);
    expect(after.packageUrl).toBe(`https://stedadev12345678.blob.core.windows.net/packages/${DIGEST_2}/released-package.zip`);
    expect(deploymentOf('third').inputs.properties.template).toEqual(deploymentOf('first').inputs.properties.template);
  });

  it('sends ARM the onedeploy body of Microsoft Learn, with a read-only SAS for that one blob that ARM makes as it deploys', () => {
    const deployment = deploymentOf('first');
    const listCalls: unknown[][] = [];
    const [onedeploy, ...others] = evaluateTemplate(deployment.inputs.properties.template, {
      parameters: parametersOf(deployment),
      now: new Date('2030-06-01T12:00:00Z'),
      list: (fn, resourceId, apiVersion, body) => {
        listCalls.push([fn, resourceId, apiVersion, body]);
        return { serviceSasToken: 'sv=2023-05-01&sr=b&sp=r&sig=SIGNED' };
      },
    });
    expect(others).toEqual([]);
    const account = resources.find((r) => r.type === 'azure-native:storage:StorageAccount' && r.name === 'first-storage')!;
    // POST .../storageAccounts/{account}/listServiceSas: read ('r') one blob ('b'), https only, for an hour.
    expect(listCalls).toEqual([
      [
        'listServiceSas',
        account.state.id,
        '2023-05-01',
        {
          canonicalizedResource: `/blob/stedadev12345678/packages/${DIGEST_1}/released-package.zip`,
          signedResource: 'b',
          signedPermission: 'r',
          signedProtocol: 'https',
          signedExpiry: '2030-06-01T13:00:00Z',
        },
      ],
    ]);
    // PUT .../sites/func-eda-dev-12345678/extensions/onedeploy
    expect(onedeploy).toEqual({
      type: 'Microsoft.Web/sites/extensions',
      apiVersion: '2022-09-01',
      name: 'func-eda-dev-12345678/onedeploy',
      location: 'westeurope',
      properties: {
        packageUri: `https://stedadev12345678.blob.core.windows.net/packages/${DIGEST_1}/released-package.zip?sv=2023-05-01&sr=b&sp=r&sig=SIGNED`,
        remoteBuild: false,
      },
    });
  });

  it('runs only after the app exists, the package is uploaded and the identity may write the deployment container', () => {
    const deployment = deploymentOf('first');
    const byName = (type: string, name: string) => resources.find((r) => r.type === type && r.name === name)!;
    const app = byName('azure-native:web:WebApp', 'first-app');
    const blob = byName('azure-native:storage:Blob', 'first-package');
    const storageOwner = byName('azure-native:authorization:RoleAssignment', 'first-storage-owner');
    // The grant through its propagation wait: the deploy writes the container as the identity.
    const storageOwnerWait = byName('time:index/sleep:Sleep', 'first-storage-owner-propagation');
    expect(storageOwnerWait.dependencies).toContain(storageOwner.urn);
    for (const before of [app, blob, storageOwnerWait]) expect(deployment.dependencies, before.name).toContain(before.urn);
    expect(blob.inputs).toMatchObject({ containerName: 'packages', blobName: `${DIGEST_1}/released-package.zip` });
  });
});
