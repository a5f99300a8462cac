import * as pulumi from '@pulumi/pulumi';
import * as docker from '@pulumi/docker';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import * as containerregistry from '@pulumi/azure-native/containerregistry/index.js';
import { ACR_TOKEN_USER, type AcrTokenExchange } from './acr-token.js';
import { BUILT_IN_ROLES, roleDefinitionId } from './role-definitions.js';

export interface RegistryImagesArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  tenantId: pulumi.Input<string>;
  registryName: pulumi.Input<string>;
  /** The repository root: both Dockerfiles build from it. */
  contextDir: string;
  /** Who runs `pulumi up`: gets AcrPush, and pushes with their own Azure AD token. */
  deployer: { objectId: pulumi.Input<string>; principalType: 'User' | 'ServicePrincipal'; accessToken: pulumi.Input<string> };
  /** Identities that pull images (container groups, the dashboard's App Service). */
  pullPrincipalIds: pulumi.Input<string>[];
  exchangeToken: AcrTokenExchange;
}

/**
 * The container registry (admin user off) and the two images built from `apps/`: the worker
 * (one container per task) and the dashboard. Images are referenced by digest, so a deploy
 * always runs exactly what was built.
 */
export class RegistryImages extends pulumi.ComponentResource {
  readonly loginServer: pulumi.Output<string>;
  readonly registryId: pulumi.Output<string>;
  readonly workerImage: pulumi.Output<string>;
  readonly dashboardImage: pulumi.Output<string>;

  constructor(name: string, args: RegistryImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('event-driven-aci:registry:RegistryImages', name, {}, opts);

    const registry = new containerregistry.Registry(
      `${name}-registry`,
      {
        registryName: args.registryName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        sku: { name: 'Basic' },
        adminUserEnabled: false,
        anonymousPullEnabled: false,
      },
      { parent: this },
    );

    const acrRole = (role: string) => pulumi.output(args.subscriptionId).apply((s) => roleDefinitionId(s, role));
    const push = new authorization.RoleAssignment(
      `${name}-deployer-push`,
      {
        principalId: args.deployer.objectId,
        principalType: args.deployer.principalType,
        roleDefinitionId: acrRole(BUILT_IN_ROLES.acrPush),
        scope: registry.id,
      },
      { parent: this },
    );
    args.pullPrincipalIds.forEach(
      (principalId, i) =>
        new authorization.RoleAssignment(
          `${name}-pull-${i}`,
          { principalId, principalType: 'ServicePrincipal', roleDefinitionId: acrRole(BUILT_IN_ROLES.acrPull), scope: registry.id },
          { parent: this },
        ),
    );

    const password = pulumi.secret(
      pulumi
        .all([registry.loginServer, args.deployer.accessToken, args.tenantId])
        .apply(([server, token, tenant]) => args.exchangeToken(server, token, tenant)),
    );
    const image = (app: 'worker' | 'dashboard') =>
      new docker.Image(
        `${name}-${app}`,
        {
          imageName: pulumi.interpolate`${registry.loginServer}/eda-${app}:latest`,
          build: { context: args.contextDir, dockerfile: `${args.contextDir}/apps/${app}/Dockerfile`, platform: 'linux/amd64' },
          registry: { server: registry.loginServer, username: ACR_TOKEN_USER, password },
        },
        { parent: this, dependsOn: [push] },
      );
    const worker = image('worker');
    const dashboard = image('dashboard');

    this.loginServer = registry.loginServer;
    this.registryId = registry.id;
    this.workerImage = worker.repoDigest;
    this.dashboardImage = dashboard.repoDigest;
    this.registerOutputs({
      loginServer: this.loginServer,
      registryId: this.registryId,
      workerImage: this.workerImage,
      dashboardImage: this.dashboardImage,
    });
  }
}
