import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import { roleDefinitionId } from './role-definitions.js';

export interface Grant {
  principalId: pulumi.Input<string>;
  /** A built-in role's GUID (role-definitions.ts), or a full role definition id. */
  role: pulumi.Input<string>;
  scope: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  principalType?: 'User' | 'ServicePrincipal';
}

/** One role assignment, child of the component that owns the scope. */
export function grant(parent: pulumi.Resource, name: string, { principalId, role, scope, subscriptionId, principalType }: Grant): authorization.RoleAssignment {
  return new authorization.RoleAssignment(
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
    { parent },
  );
}
