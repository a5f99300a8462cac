import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { MonitorClient } from '@azure/arm-monitor';
import type { FakeArm } from './fake-arm.js';

export const SUBSCRIPTION = '00000000-0000-0000-0000-000000000000';
export const RESOURCE_GROUP = 'rg-eda-test';
export const PULL_IDENTITY =
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-eda-pull`;

/** The real SDK clients, pointed at the fake and trusting its certificate: nothing else differs. */
export function clientsFor(arm: FakeArm): { aci: ContainerInstanceManagementClient; monitor: MonitorClient } {
  const aci = new ContainerInstanceManagementClient(arm.credential(), SUBSCRIPTION, { endpoint: arm.endpoint });
  aci.pipeline.addPolicy(arm.trustPolicy());
  const monitor = new MonitorClient(arm.credential(), SUBSCRIPTION, {
    endpoint: arm.endpoint,
    additionalPolicies: [{ policy: arm.trustPolicy(), position: 'perCall' }],
  });
  return { aci, monitor };
}
