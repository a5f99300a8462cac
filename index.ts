// The Pulumi program: the whole Azure environment as one stack (`pulumi up` / `pulumi destroy`).
import { azureStack } from './stacks/azure/azure-stack.js';
import { readAzureStackConfig } from './stacks/azure/config.js';

const stack = azureStack(readAzureStackConfig());

export const dashboardUrl = stack.dashboardUrl;
export const resourceGroupName = stack.resourceGroupName;
export const queueName = stack.queueName;
export const registryLoginServer = stack.registryLoginServer;
export const spawnerAppName = stack.spawnerAppName;
/** Secret: `pulumi stack output dashboardToken --show-secrets`. */
export const dashboardToken = stack.dashboardToken;
