import * as pulumi from '@pulumi/pulumi';
import * as storage from '@pulumi/azure-native/storage/index.js';
import * as web from '@pulumi/azure-native/web/index.js';
import { FunctionPackageDeployment } from './function-package-deployment.js';
import { grant } from './role-assignment.js';
import { BUILT_IN_ROLES } from './role-definitions.js';

export interface SpawnerFunctionArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  storageAccountName: pulumi.Input<string>;
  planName: pulumi.Input<string>;
  appName: pulumi.Input<string>;
  /** The bundled Function app (index.mjs, host.json, package.json). */
  packageDir: string;
  /** A digest of the package: a new one is deployed again, and only a new one. */
  packageHash: string;
  identity: { id: pulumi.Input<string>; clientId: pulumi.Input<string>; principalId: pulumi.Input<string> };
  /**
   * Every grant the spawner uses that is made elsewhere (their propagation waits): its own
   * identity's (container groups, the pull identity, metrics, the queue) and the pull identity's
   * AcrPull, which each container group it creates pulls with. The app and its one deploy are
   * created after all of them, so the first message meets grants that have had time to take effect.
   */
  grants: pulumi.Resource[];
  serviceBusNamespace: pulumi.Input<string>;
  maxInstances: pulumi.Input<number>;
  /** The spawner's own settings (SpawnerSettings); secrets as secret Outputs. */
  settings: Record<string, pulumi.Input<string>>;
}

// Flex Consumption's package name (Microsoft Learn, "Deployment package": it must be
// released-package.zip), below a folder named by the digest so that a new package is a new blob.
const PACKAGE_FILE = 'released-package.zip';

/**
 * The spawner as an Azure Function on the Flex Consumption plan (nothing runs, nothing bills
 * when idle; Node 22): its code package uploaded to a private container and deployed with
 * OneDeploy (FunctionPackageDeployment), the host's storage and the Service Bus trigger reached
 * with the spawner's managed identity. The app's settings are the spawner's settings
 * (apps/spawner/settings.ts).
 */
export class SpawnerFunction extends pulumi.ComponentResource {
  readonly appName: pulumi.Output<string>;

  constructor(name: string, args: SpawnerFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super('event-driven-aci:spawner:SpawnerFunction', name, {}, opts);

    const account = new storage.StorageAccount(
      `${name}-storage`,
      {
        accountName: args.storageAccountName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'StorageV2',
        sku: { name: 'Standard_LRS' },
        allowBlobPublicAccess: false,
        // The package's SAS is signed with the account key (listServiceSas in the one-deploy
        // template), and Pulumi uploads the blob with it. The apps themselves use identities only.
        allowSharedKeyAccess: true,
        minimumTlsVersion: 'TLS1_2',
        enableHttpsTrafficOnly: true,
      },
      { parent: this },
    );
    // Where the platform keeps the deployed package (functionAppConfig.deployment); one deploy writes it.
    const container = new storage.BlobContainer(
      `${name}-deployments`,
      { accountName: account.name, resourceGroupName: args.resourceGroupName, containerName: 'deployments', publicAccess: 'None' },
      { parent: this },
    );
    // Where the program uploads each package for one deploy to read (through a short-lived SAS).
    const packages = new storage.BlobContainer(
      `${name}-packages`,
      { accountName: account.name, resourceGroupName: args.resourceGroupName, containerName: 'packages', publicAccess: 'None' },
      { parent: this },
    );
    const code = new storage.Blob(
      `${name}-package`,
      {
        accountName: account.name,
        resourceGroupName: args.resourceGroupName,
        containerName: packages.name,
        blobName: `${args.packageHash}/${PACKAGE_FILE}`,
        type: 'Block',
        contentType: 'application/zip',
        source: new pulumi.asset.FileArchive(args.packageDir),
      },
      { parent: this },
    );
    const blobOwner = grant(this, `${name}-storage-owner`, {
      principalId: args.identity.principalId,
      role: BUILT_IN_ROLES.storageBlobDataOwner,
      scope: account.id,
      subscriptionId: args.subscriptionId,
    });
    // The host reads its storage and the deploy writes the package as this identity from the start.
    const grantsUsed = [blobOwner, ...args.grants];

    const plan = new web.AppServicePlan(
      `${name}-plan`,
      {
        name: args.planName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'functionapp',
        reserved: true,
        sku: { name: 'FC1', tier: 'FlexConsumption' },
      },
      { parent: this },
    );

    const identitySettings = (prefix: string, extra: Record<string, pulumi.Input<string>>) => ({
      ...extra,
      [`${prefix}__credential`]: 'managedidentity',
      [`${prefix}__clientId`]: args.identity.clientId,
    });
    const settings: Record<string, pulumi.Input<string>> = {
      ...identitySettings('AzureWebJobsStorage', { AzureWebJobsStorage__accountName: account.name }),
      ...identitySettings('ServiceBusConnection', { ServiceBusConnection__fullyQualifiedNamespace: args.serviceBusNamespace }),
      ...args.settings,
    };

    const app = new web.WebApp(
      `${name}-app`,
      {
        name: args.appName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'functionapp,linux',
        serverFarmId: plan.id,
        httpsOnly: true,
        identity: { type: 'UserAssigned', userAssignedIdentities: [args.identity.id] },
        functionAppConfig: {
          deployment: {
            storage: {
              type: 'blobContainer',
              value: pulumi.interpolate`${account.primaryEndpoints.blob}${container.name}`,
              authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: args.identity.id },
            },
          },
          runtime: { name: 'node', version: '22' },
          scaleAndConcurrency: { maximumInstanceCount: args.maxInstances, instanceMemoryMB: 2048 },
        },
        siteConfig: {
          minTlsVersion: '1.2',
          ftpsState: 'Disabled',
          appSettings: Object.entries(settings).map(([name, value]) => ({ name, value })),
        },
      },
      { parent: this, dependsOn: grantsUsed },
    );

    new FunctionPackageDeployment(
      `${name}-deploy`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        appName: app.name,
        storageAccountId: account.id,
        storageAccountName: account.name,
        blobEndpoint: account.primaryEndpoints.blob,
        containerName: packages.name,
        blobName: code.name,
        waitFor: grantsUsed,
      },
      { parent: this },
    );

    this.appName = app.name;
    this.registerOutputs({ appName: this.appName });
  }
}
