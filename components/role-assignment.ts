import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import { propagationWait, ROLE_ASSIGNMENT_PROPAGATION } from './propagation-wait.js';
import { roleDefinitionId } from './role-definitions.js';

export interface Grant {
  principalId: pulumi.Input<string>;
  /** A built-in role's GUID (role-definitions.ts), or a full role definition id. */
  role: pulumi.Input<string>;
  scope: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  principalType?: 'User' | 'ServicePrincipal';
  /** What must exist before the assignment is made: a custom role's propagation wait. */
  after?: pulumi.Resource[];
}

/**
 * One role assignment, child of the component that owns the scope, and its propagation wait
 * (propagation-wait.ts). What it returns is the wait: whatever uses the grant depends on it, so
 * it is created once the grant has had time to take effect, not seconds after it was assigned.
 */
export function grant(
  parent: pulumi.Resource,
  name: string,
  { principalId, role, scope, subscriptionId, principalType, after = [] }: Grant,
): pulumi.Resource {
  const assignment = new authorization.RoleAssignment(
    name,
    {
      principalId,
      // Managed identities are service principals; the deployer says what it is.
      principalType: principalType ?? 'ServicePrincipal',
      roleDefinitionId: pulumi
        .all([subscriptionId, role])
        .apply(([subscription, id]) => (id.startsWith('/') ? id : roleDefinitionId(subscription, id))),
      scope,
    },
    { parent, dependsOn: after },
  );
  return propagationWait(parent, `${name}-propagation`, assignment, ROLE_ASSIGNMENT_PROPAGATION);
}
