import * as pulumi from '@pulumi/pulumi';
import * as web from '@pulumi/azure-native/web/index.js';

export interface DashboardHostingArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  planName: pulumi.Input<string>;
  appName: pulumi.Input<string>;
  sku: pulumi.Input<string>;
  /** The dashboard image, by digest, in the stack's registry. */
  image: pulumi.Input<string>;
  identity: { id: pulumi.Input<string>; clientId: pulumi.Input<string> };
  /**
   * Every grant the dashboard uses (their propagation waits): AcrPull on the registry, the
   * queue's send and receive, Reader on the resource group. The app is created after all of
   * them, so its first image pull is authorized rather than answered with 401, and its first
   * health check finds the queue readable.
   */
  grants: pulumi.Resource[];
  /** App settings (secrets stay secret: pass them as secret Outputs). */
  settings: Record<string, pulumi.Input<string>>;
}

/**
 * The dashboard on App Service: a Linux plan and a Web App running the dashboard image, pulled
 * from the registry with its managed identity, HTTPS only, TLS 1.2, no FTP. The app itself
 * refuses every request without the stack's access token (DASHBOARD_TOKEN).
 */
export class DashboardHosting extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly appName: pulumi.Output<string>;

  constructor(name: string, args: DashboardHostingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('event-driven-aci:dashboard:DashboardHosting', name, {}, opts);

    const plan = new web.AppServicePlan(
      `${name}-plan`,
      {
        name: args.planName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'linux',
        reserved: true,
        sku: { name: args.sku },
      },
      { parent: this },
    );

    const app = new web.WebApp(
      `${name}-app`,
      {
        name: args.appName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'app,linux,container',
        serverFarmId: plan.id,
        httpsOnly: true,
        identity: { type: 'UserAssigned', userAssignedIdentities: [args.identity.id] },
        siteConfig: {
          linuxFxVersion: pulumi.interpolate`DOCKER|${args.image}`,
          acrUseManagedIdentityCreds: true,
          acrUserManagedIdentityID: args.identity.clientId,
          alwaysOn: true,
          healthCheckPath: '/healthz',
          http20Enabled: true,
          minTlsVersion: '1.2',
          ftpsState: 'Disabled',
          appSettings: Object.entries({ ...args.settings, WEBSITES_PORT: '8080' }).map(([name, value]) => ({ name, value })),
        },
      },
      { parent: this, dependsOn: args.grants },
    );

    this.appName = app.name;
    this.url = pulumi.interpolate`https://${app.defaultHostName}`;
    this.registerOutputs({ url: this.url, appName: this.appName });
  }
}
