/**
 * Every resource provider namespace the stack uses, and what for. In a fresh subscription some
 * are not registered, and the first create of one of their types fails with
 * MissingSubscriptionRegistration; `pulumi up` registers them before anything else
 * (components/resource-provider-registration.ts). tests/infra/azure-stack.test.ts checks this
 * list against the resources the program creates.
 */
export const STACK_RESOURCE_PROVIDERS = {
  'Microsoft.Resources': 'the resource group, and the ARM deployment that runs one deploy',
  'Microsoft.Authorization': "the spawner's custom role and every role assignment",
  'Microsoft.ManagedIdentity': 'the pull, spawner and dashboard identities',
  'Microsoft.ServiceBus': 'the namespace and the work queue',
  'Microsoft.DocumentDB': 'Cosmos DB for MongoDB',
  'Microsoft.ContainerRegistry': 'the registry the images are pushed to',
  'Microsoft.Storage': "the Function's storage: host state, its packages, its deployment container",
  'Microsoft.Web': 'both App Service plans, the Web App, the Function App and its onedeploy extension',
  // Used at run time, by the apps, not by a resource of the program:
  'Microsoft.ContainerInstance': 'the container group the spawner starts for each task',
  'Microsoft.Insights': 'the container metrics (Azure Monitor) the reaper keeps and the dashboard shows',
  // Flex Consumption apps fail to create while it is unregistered: Azure/azure-cli#33177,
  // hashicorp/terraform-provider-azurerm#30397 (Microsoft's own pages do not say so).
  'Microsoft.App': 'what Flex Consumption apps run on',
} as const;

export const STACK_RESOURCE_PROVIDER_NAMESPACES = Object.keys(STACK_RESOURCE_PROVIDERS);
