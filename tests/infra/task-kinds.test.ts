import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACR_TOKEN_USER } from '../../components/acr-token.js';
import { BUILT_IN_ROLES, CONTAINER_GROUP_ACTIONS } from '../../components/role-definitions.js';
import type { AzureStack } from '../../stacks/azure/azure-stack.js';
import { containerGroupValidators, describeErrors, SPEC_DIR } from '../fakes/container-instance-spec.js';
import { ROOT } from '../helpers.js';
import { mockedAzureStack, TOKEN, transitiveDependencies, valueOf, type Recorded } from './pulumi-mocks.js';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const KINDS = {
  wordcount: { build: 'examples/wordcount', cpu: 0.5 },
  // A context other than the Dockerfile's folder.
  counted: { build: { context: 'examples', dockerfile: 'examples/wordcount/Dockerfile' } },
  hello: { image: `docker.io/library/busybox@${DIGEST}` },
  private: {
    image: `ghcr.io/acme/private-task@${DIGEST}`,
    registry: { server: 'ghcr.io', username: 'acme-bot', password: 'ghp_registry-password' },
    secretEnv: { API_KEY: 'api-key-value' },
    env: { MODE: 'fast' },
  },
};

type KindSetting = { image: string; registry?: { server: string; username: string; password: string }; env?: Record<string, string>; secretEnv?: Record<string, string> };

describe('task kinds on Azure, with Pulumi mocks', () => {
  let resources: Recorded[];
  let stack: AzureStack;

  beforeAll(async () => {
    ({ resources, stack } = await mockedAzureStack({
      stack: 'dev',
      config: { 'azure-native:location': 'westeurope', 'event-driven-aci:dashboardToken': TOKEN, 'event-driven-aci:kinds': JSON.stringify(KINDS) },
      // A structured value with a secure leaf is secret as a whole key.
      secretKeys: ['event-driven-aci:dashboardToken', 'event-driven-aci:kinds'],
    }));
  }, 60_000);

  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const spawnerKinds = async () => JSON.parse(await valueOf(stack.secrets.kinds!)) as Record<string, KindSetting>;
  const registry = () => ofType('azure-native:containerregistry:Registry')[0]!;

  it('builds each kind with a build into the stack’s registry, for linux/amd64, pushed with the deployer’s ACR token after AcrPush', () => {
    const images = ofType('docker:index/image:Image');
    expect(images.map((i) => i.name).sort()).toEqual(['registry-dashboard', 'registry-kind-counted', 'registry-kind-wordcount', 'registry-worker']);
    const loginServer = registry().state.loginServer as string;
    const push = ofType('azure-native:authorization:RoleAssignment').find((r) => (r.inputs.roleDefinitionId as string).endsWith(BUILT_IN_ROLES.acrPush))!;
    const expected: Record<string, { imageName: string; context: string; dockerfile: string }> = {
      'registry-kind-wordcount': { imageName: `${loginServer}/eda-kind-wordcount:wordcount`, context: 'examples/wordcount', dockerfile: 'examples/wordcount/Dockerfile' },
      'registry-kind-counted': { imageName: `${loginServer}/eda-kind-counted:counted`, context: 'examples', dockerfile: 'examples/wordcount/Dockerfile' },
    };
    for (const [name, { imageName, context, dockerfile }] of Object.entries(expected)) {
      const image = images.find((i) => i.name === name)!;
      expect(image.inputs.imageName).toBe(imageName);
      expect(image.inputs.build).toEqual({ context: join(ROOT, context), dockerfile: join(ROOT, dockerfile), platform: 'linux/amd64' });
      expect(image.inputs.registry).toEqual({ server: loginServer, username: ACR_TOKEN_USER, password: 'acr-refresh-token' });
      expect(transitiveDependencies(resources, image.urn)).toContain(push.urn);
    }
  });

  it('gives the spawner each kind’s image: a built one by its digest, any other as given, and pulls no image to find out', async () => {
    const kinds = await spawnerKinds();
    const digestOf = (name: string) => ofType('docker:index/image:Image').find((i) => i.name === name)!.state.repoDigest as string;
    expect(kinds.wordcount!.image).toBe(digestOf('registry-kind-wordcount'));
    expect(kinds.counted!.image).toBe(digestOf('registry-kind-counted'));
    for (const name of ['wordcount', 'counted']) expect(kinds[name]!.image).toMatch(new RegExp(`^${registry().state.loginServer}/eda-kind-[a-z]+@sha256:[0-9a-f]{64}$`));
    expect(kinds.hello!.image).toBe(KINDS.hello.image);
    expect(kinds.private!.image).toBe(KINDS.private.image);
    // Nothing reads a registry during preview: no image is looked up, no remote image declared
    // (an invoke the mocks do not answer would have failed the program).
    expect(resources.map((r) => r.type).filter((t) => t.startsWith('docker:') && t !== 'docker:index/image:Image')).toEqual([]);
  });

  it('pulls every kind: the stack’s registry with the pull identity, another private one with the kind’s credentials', async () => {
    const kinds = await spawnerKinds();
    const loginServer = registry().state.loginServer as string;
    const pull = ofType('azure-native:managedidentity:UserAssignedIdentity').find((r) => (r.inputs.resourceName as string).startsWith('id-eda-pull'))!;
    const acrPull = ofType('azure-native:authorization:RoleAssignment').filter(
      (r) => (r.inputs.roleDefinitionId as string).endsWith(BUILT_IN_ROLES.acrPull) && r.inputs.principalId === pull.state.principalId,
    );
    expect(acrPull.map((r) => r.inputs.scope)).toEqual([registry().state.id]);
    for (const [name, kind] of Object.entries(kinds)) {
      if (kind.image.startsWith(`${loginServer}/`)) expect(kind.registry, name).toBeUndefined();
    }
    expect(kinds.private!.registry).toEqual(KINDS.private.registry);
    expect(kinds.hello!.registry).toBeUndefined();
    // Attaching the pull identity stays allowed on that identity alone, whatever the kinds.
    const operator = ofType('azure-native:authorization:RoleAssignment').filter((r) => (r.inputs.roleDefinitionId as string).endsWith(BUILT_IN_ROLES.managedIdentityOperator));
    expect(operator.map((r) => r.inputs.scope)).toEqual([pull.state.id]);
  });

  it('needs no new action in the spawner’s role: credentials and secure values are part of the container group’s PUT', async () => {
    // The spawner's own role, at its resource group (the usage-read role sits at the subscription).
    const role = ofType('azure-native:authorization:RoleDefinition').find((r) => String(r.inputs.scope).includes('/resourceGroups/'))!;
    expect(role.inputs.permissions).toEqual([{ actions: [...CONTAINER_GROUP_ACTIONS], notActions: [] }]);

    // What a kind on another private registry asks of a container group, in Azure's own
    // 2023-05-01 schema (closed to unknown names): its credentials beside the pull identity's,
    // and its secretEnv as secure values.
    const kind = (await spawnerKinds()).private!;
    const pullIdentity = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-eda-pull';
    const body = {
      location: 'westeurope',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [pullIdentity]: {} } },
      properties: {
        osType: 'Linux',
        restartPolicy: 'Never',
        imageRegistryCredentials: [{ server: registry().state.loginServer, identity: pullIdentity }, kind.registry],
        containers: [
          {
            name: 'worker',
            properties: {
              image: kind.image,
              resources: { requests: { cpu: 1, memoryInGB: 1.5 } },
              environmentVariables: [
                ...Object.entries(kind.env ?? {}).map(([name, value]) => ({ name, value })),
                ...Object.entries(kind.secretEnv ?? {}).map(([name, secureValue]) => ({ name, secureValue })),
              ],
            },
          },
        ],
      },
    };
    const { request } = containerGroupValidators();
    expect(request(body), describeErrors(request)).toBe(true);

    // Both are properties of the body of ContainerGroups_CreateOrUpdate, a PUT on the group, which
    // Azure RBAC authorizes as containerGroups/write (write: PUT or PATCH;
    // https://learn.microsoft.com/azure/role-based-access-control/role-definitions#actions-format).
    const spec = JSON.parse(readFileSync(join(SPEC_DIR, '2023-05-01/containerInstance.json'), 'utf8'));
    const group = '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerInstance/containerGroups/{containerGroupName}';
    const put = spec.paths[group].put;
    expect(put.operationId).toBe('ContainerGroups_CreateOrUpdate');
    expect(put.parameters.find((p: { in: string }) => p.in === 'body').schema.$ref).toBe('#/definitions/ContainerGroup');
    expect(CONTAINER_GROUP_ACTIONS).toContain('Microsoft.ContainerInstance/containerGroups/write');
    // And Azure's spec marks both secret (x-ms-secret: ARM's mark for a value kept out of its
    // responses, guideline RPC-v1-13), not a value for a reader of the group, such as the dashboard.
    expect(spec.definitions.ImageRegistryCredential.properties.password['x-ms-secret']).toBe(true);
    expect(spec.definitions.EnvironmentVariable.properties.secureValue['x-ms-secret']).toBe(true);
  });

  it('lets no kind’s password or secret value into a plain input or a stack output', async () => {
    const plainText = JSON.stringify(resources.map((r) => r.plainInputs));
    expect(JSON.stringify(resources.map((r) => r.inputs))).toContain('ghp_registry-password');
    for (const secret of ['ghp_registry-password', 'api-key-value']) expect(plainText).not.toContain(secret);
    for (const output of [stack.dashboardUrl, stack.resourceGroupName, stack.queueName, stack.registryLoginServer, stack.spawnerAppName]) {
      const value = String(await valueOf(output));
      for (const secret of ['ghp_registry-password', 'api-key-value']) expect(value).not.toContain(secret);
    }
  });
});
