import * as pulumi from '@pulumi/pulumi';
import * as docker from '@pulumi/docker';
import * as containerregistry from '@pulumi/azure-native/containerregistry/index.js';
import { ACR_TOKEN_USER, type AcrTokenExchange } from './acr-token.js';
import { grant } from './role-assignment.js';
import { BUILT_IN_ROLES } from './role-definitions.js';

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
  /** Identities that pull images, by who they are (container groups, the dashboard's App Service). */
  pullers: Record<string, pulumi.Input<string>>;
  exchangeToken: AcrTokenExchange;
  /** The task kinds built from the user's repository, by kind name: absolute paths. */
  kindBuilds?: Record<string, { context: string; dockerfile: string }>;
}

/**
 * The container registry (admin user off) and the images built into it: the worker (one
 * container per task) and the dashboard from `apps/`, and each task kind that the stack builds
 * from the user's own Dockerfile. Images are referenced by digest, so a deploy always runs
 * exactly what was built.
 */
export class RegistryImages extends pulumi.ComponentResource {
  readonly loginServer: pulumi.Output<string>;
  readonly registryId: pulumi.Output<string>;
  readonly workerImage: pulumi.Output<string>;
  readonly dashboardImage: pulumi.Output<string>;
  /** Each built kind's image, by digest, by kind name. */
  readonly kindImages: Record<string, pulumi.Output<string>>;
  private readonly pullGrants = new Map<string, pulumi.Resource>();

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

    const access = { scope: registry.id, subscriptionId: args.subscriptionId };
    const push = grant(this, `${name}-deployer-push`, {
      ...access,
      principalId: args.deployer.objectId,
      principalType: args.deployer.principalType,
      role: BUILT_IN_ROLES.acrPush,
    });
    for (const [puller, principalId] of Object.entries(args.pullers)) {
      this.pullGrants.set(puller, grant(this, `${name}-pull-${puller}`, { ...access, principalId, role: BUILT_IN_ROLES.acrPull }));
    }

    // Pulumi runs an apply in preview whenever its inputs are known, so on an existing stack the
    // exchange would call the registry from `pulumi preview`, which must reach nothing but ARM.
    // Preview loses nothing by skipping it: the docker provider neither builds nor pushes then
    // ("By default, v4.x Image resources do not build during previews", `buildOnPreview`:
    // https://www.pulumi.com/registry/packages/docker-build/api-docs/image/), and the password
    // shows as unknown until `up`.
    const password = pulumi.secret(
      pulumi
        .all([registry.loginServer, args.deployer.accessToken, args.tenantId])
        .apply(([server, token, tenant]) =>
          pulumi.runtime.isDryRun() ? (pulumi.unknown as unknown as string) : args.exchangeToken(server, token, tenant),
        ),
    );
    // ACI runs linux/amd64 containers, whatever machine runs `pulumi up`.
    const image = (role: string, repository: string, tag: string, build: { context: string; dockerfile: string }) =>
      new docker.Image(
        `${name}-${role}`,
        {
          imageName: pulumi.interpolate`${registry.loginServer}/${repository}:${tag}`,
          build: { ...build, platform: 'linux/amd64' },
          registry: { server: registry.loginServer, username: ACR_TOKEN_USER, password },
        },
        { parent: this, dependsOn: [push] },
      ).repoDigest;
    const app = (role: 'worker' | 'dashboard') =>
      image(role, `eda-${role}`, 'latest', { context: args.contextDir, dockerfile: `${args.contextDir}/apps/${role}/Dockerfile` });

    this.loginServer = registry.loginServer;
    this.registryId = registry.id;
    this.workerImage = app('worker');
    this.dashboardImage = app('dashboard');
    // A kind's name is a valid repository name (KIND_NAME_PATTERN: no hyphen at either end).
    this.kindImages = Object.fromEntries(
      Object.entries(args.kindBuilds ?? {}).map(([kind, build]) => [kind, image(`kind-${kind}`, `eda-kind-${kind}`, kind, build)]),
    );
    this.registerOutputs({
      loginServer: this.loginServer,
      registryId: this.registryId,
      workerImage: this.workerImage,
      dashboardImage: this.dashboardImage,
      kindImages: this.kindImages,
    });
  }

  /**
   * A puller's AcrPull grant (its propagation wait): an app that pulls on its first start, or
   * starts container groups that pull as that identity, is created after it.
   */
  pullGrant(puller: string): pulumi.Resource {
    const found = this.pullGrants.get(puller);
    if (!found) throw new Error(`no AcrPull grant for "${puller}": pullers are ${[...this.pullGrants.keys()].join(', ')}`);
    return found;
  }
}
