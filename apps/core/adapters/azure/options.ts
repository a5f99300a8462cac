// What the Azure adapters are given, declared here by the adapters themselves: the composition
// roots read and check the settings (apps/core/settings/azure.ts) and pass the settled values,
// which fit these shapes. An adapter never imports settings/, so a settings change cannot
// reach into an adapter unseen (tests/unit/import-rules.test.ts).

/** What a create needs; a reader of logs and states (the dashboard) goes without. */
export interface AciLaunch {
  location: string;
  /** The worker image in the stack's registry, e.g. `myacr.azurecr.io/worker:sha`. */
  workerImage: string;
  /** The registry's login server; the image is pulled with `pullIdentityId`, no password. */
  registryServer: string;
  /** Resource id of the user-assigned identity that has AcrPull on the registry. */
  pullIdentityId: string;
}

/** Where the stack's container groups live, and which identity the app runs as. */
export interface AzureScope {
  subscriptionId: string;
  resourceGroup: string;
  /** The user-assigned identity's client id. */
  managedIdentityClientId?: string;
}

/** The queue, by identity (`namespace`, the deployed default) or by connection string. */
export interface ServiceBusSettings {
  queueName: string;
  /** `<name>.servicebus.windows.net`. */
  namespace?: string;
  connectionString?: string;
}
