import * as pulumi from '@pulumi/pulumi';
import * as resources from '@pulumi/azure-native/resources/index.js';

export interface FunctionPackageDeploymentArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  /** The Function App (Flex Consumption) the package is deployed to. */
  appName: pulumi.Input<string>;
  /** The storage account that holds the package blob (its ARM id). */
  storageAccountId: pulumi.Input<string>;
  storageAccountName: pulumi.Input<string>;
  /** The account's blob endpoint, `https://<account>.blob.core.windows.net/`. */
  blobEndpoint: pulumi.Input<string>;
  containerName: pulumi.Input<string>;
  /** The package blob's name; it carries the package digest, so a new package is a new name. */
  blobName: pulumi.Input<string>;
  /**
   * What must be in place before the deploy runs: every grant the app's identity uses (their
   * propagation waits), first its access to the deployment storage, which the deploy writes.
   */
  waitFor: pulumi.Resource[];
}

/** How long the package URI's SAS is valid: the deployment reads it within minutes of being issued. */
const PACKAGE_SAS_LIFETIME = 'PT1H';

/**
 * The ARM template that deploys a package to a Flex Consumption app: the `onedeploy` extension
 * with `packageUri` and `remoteBuild: false`, as Microsoft Learn shows it ("Automate resource
 * deployment for your function app", Flex Consumption, Deployment package:
 * https://learn.microsoft.com/azure/azure-functions/functions-infrastructure-as-code?pivots=flex-consumption-plan#deployment-package).
 * A package uploaded straight into the deployment container is not deployed; one deploy is,
 * and it syncs the triggers.
 *
 * The package URI carries a read-only SAS for that one blob, made by ARM itself while it
 * deploys (the `listServiceSas` template function,
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource#list,
 * with the body of https://learn.microsoft.com/rest/api/storagerp/storage-accounts/list-service-sas),
 * expiring PACKAGE_SAS_LIFETIME after the deployment starts (`utcNow` is only allowed in a
 * parameter's default: https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-date#utcnow).
 * So the blob stays private, no SAS is ever in Pulumi's inputs or state, and the inputs do not
 * change from one `pulumi up` to the next unless the package does.
 */
const ONE_DEPLOY_TEMPLATE = {
  $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
  contentVersion: '1.0.0.0',
  parameters: {
    appName: { type: 'string' },
    location: { type: 'string' },
    storageAccountId: { type: 'string' },
    packageUrl: { type: 'string' },
    packageCanonicalPath: { type: 'string' },
    sasExpiry: { type: 'string', defaultValue: `[dateTimeAdd(utcNow(), '${PACKAGE_SAS_LIFETIME}', 'yyyy-MM-ddTHH:mm:ssZ')]` },
  },
  variables: {
    packageSas: {
      canonicalizedResource: "[parameters('packageCanonicalPath')]",
      signedResource: 'b',
      signedPermission: 'r',
      signedProtocol: 'https',
      signedExpiry: "[parameters('sasExpiry')]",
    },
  },
  resources: [
    {
      type: 'Microsoft.Web/sites/extensions',
      apiVersion: '2022-09-01',
      name: "[format('{0}/onedeploy', parameters('appName'))]",
      location: "[parameters('location')]",
      properties: {
        packageUri:
          "[format('{0}?{1}', parameters('packageUrl'), listServiceSas(parameters('storageAccountId'), '2023-05-01', variables('packageSas')).serviceSasToken)]",
        remoteBuild: false,
      },
    },
  ],
} as const;

/**
 * Deploys the Function's code package with OneDeploy as part of `pulumi up`, through an ARM
 * deployment of ONE_DEPLOY_TEMPLATE (azure-native has no resource for the extension). Pulumi
 * updates the deployment, and ARM runs one deploy again, only when its inputs change: they are
 * names and the blob's path, which changes with the package digest and with nothing else.
 * Preview plans it and calls nothing.
 */
export class FunctionPackageDeployment extends pulumi.ComponentResource {
  readonly deploymentName: pulumi.Output<string>;

  constructor(name: string, args: FunctionPackageDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super('event-driven-aci:spawner:FunctionPackageDeployment', name, {}, opts);

    const value = (input: pulumi.Input<string>) => ({ value: input });
    const deployment = new resources.Deployment(
      `${name}-onedeploy`,
      {
        resourceGroupName: args.resourceGroupName,
        deploymentName: `${name}-onedeploy`,
        properties: {
          // Incremental: Complete would delete everything in the group that the template does not name.
          mode: 'Incremental',
          template: ONE_DEPLOY_TEMPLATE,
          parameters: {
            appName: value(args.appName),
            location: value(args.location),
            storageAccountId: value(args.storageAccountId),
            packageUrl: value(pulumi.interpolate`${args.blobEndpoint}${args.containerName}/${args.blobName}`),
            packageCanonicalPath: value(pulumi.interpolate`/blob/${args.storageAccountName}/${args.containerName}/${args.blobName}`),
          },
        },
      },
      { parent: this, dependsOn: args.waitFor },
    );

    this.deploymentName = deployment.name;
    this.registerOutputs({ deploymentName: this.deploymentName });
  }
}
