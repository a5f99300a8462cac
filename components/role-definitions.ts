/** Built-in Azure role definition ids (the same in every tenant). */
export const BUILT_IN_ROLES = {
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  acrPush: '8311e382-0749-4cb8-b61a-304f252e45ec',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  monitoringReader: '43d0d8ad-25c7-4714-9337-8ba259a9fe05',
  managedIdentityOperator: 'f1a07417-d97a-45cb-824c-7a7467783830',
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419',
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
} as const;

/** The full id ARM wants for a role definition in a subscription. */
export function roleDefinitionId(subscriptionId: string, roleId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

/**
 * What the spawner may do, and nothing else: manage container groups (create, read, stop,
 * delete, read logs). Assigned at the stack's resource group only.
 */
export const CONTAINER_GROUP_ACTIONS = [
  'Microsoft.ContainerInstance/containerGroups/read',
  'Microsoft.ContainerInstance/containerGroups/write',
  'Microsoft.ContainerInstance/containerGroups/delete',
  'Microsoft.ContainerInstance/containerGroups/stop/action',
  'Microsoft.ContainerInstance/containerGroups/containers/logs/read',
] as const;

/**
 * What the spawner's usage read needs, and nothing else: the region's ACI usage
 * (`locations/{location}/usages`), a subscription-scope resource. Assigned at the subscription,
 * apart from the container-group role, which stays at the resource group.
 */
export const USAGE_READ_ACTIONS = ['Microsoft.ContainerInstance/locations/usages/read'] as const;
