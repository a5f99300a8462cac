import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import * as managedidentity from '@pulumi/azure-native/managedidentity/index.js';
import { propagationWait, ROLE_DEFINITION_PROPAGATION } from './propagation-wait.js';
import { grant } from './role-assignment.js';
import { BUILT_IN_ROLES, CONTAINER_GROUP_ACTIONS } from './role-definitions.js';

export interface IdentitiesArgs {
  resourceGroupName: pulumi.Input<string>;
  resourceGroupId: pulumi.Input<string>;
  location: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  names: { pull: pulumi.Input<string>; spawner: pulumi.Input<string>; dashboard: pulumi.Input<string> };
  spawnerRole: { name: pulumi.Input<string>; id: pulumi.Input<string> };
}

export interface IdentityOutputs {
  id: pulumi.Output<string>;
  clientId: pulumi.Output<string>;
  principalId: pulumi.Output<string>;
}

/**
 * Who is who, with the least each needs: the pull identity that container groups use to pull
 * the worker image; the spawner's identity, which may only manage container groups in this
 * resource group (a custom role) and attach the pull identity to them; and the dashboard's,
 * which reads container logs and metrics. Data-plane access (queue, registry, storage) is
 * granted by the component that owns the data.
 */
export class Identities extends pulumi.ComponentResource {
  readonly pull: IdentityOutputs;
  readonly spawner: IdentityOutputs;
  readonly dashboard: IdentityOutputs;
  readonly spawnerRoleDefinitionId: pulumi.Output<string>;
  /**
   * The propagation waits of the grants made here, by the identity that uses them: whatever
   * runs as that identity depends on all of them (role-assignment.ts).
   */
  readonly grants: { spawner: pulumi.Resource[]; dashboard: pulumi.Resource[] } = { spawner: [], dashboard: [] };

  constructor(name: string, args: IdentitiesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('event-driven-aci:identity:Identities', name, {}, opts);

    const identity = (role: keyof IdentitiesArgs['names']): IdentityOutputs => {
      const created = new managedidentity.UserAssignedIdentity(
        `${name}-${role}`,
        { resourceName: args.names[role], resourceGroupName: args.resourceGroupName, location: args.location },
        { parent: this },
      );
      return { id: created.id, clientId: created.clientId, principalId: created.principalId };
    };
    this.pull = identity('pull');
    this.spawner = identity('spawner');
    this.dashboard = identity('dashboard');

    const spawnerRole = new authorization.RoleDefinition(
      `${name}-spawner-role`,
      {
        roleDefinitionId: args.spawnerRole.id,
        roleName: args.spawnerRole.name,
        description: 'Create, read, stop and delete container groups, and read their logs: what the event-driven-aci spawner does.',
        roleType: 'CustomRole',
        scope: args.resourceGroupId,
        assignableScopes: [args.resourceGroupId],
        permissions: [{ actions: [...CONTAINER_GROUP_ACTIONS], notActions: [] }],
      },
      { parent: this },
    );
    this.spawnerRoleDefinitionId = spawnerRole.id;

    // The assignment API can answer RoleDefinitionDoesNotExist for a role defined moments ago.
    const spawnerRoleReady = propagationWait(this, `${name}-spawner-role-propagation`, spawnerRole, ROLE_DEFINITION_PROPAGATION);

    const assign = (
      suffix: string,
      who: keyof Identities['grants'],
      role: pulumi.Input<string>,
      scope: pulumi.Input<string>,
      after: pulumi.Resource[] = [],
    ) => {
      const principalId = this[who].principalId;
      this.grants[who].push(grant(this, `${name}-${suffix}`, { principalId, role, scope, subscriptionId: args.subscriptionId, after }));
    };

    // Assigned by the subscription-level id built from the role's GUID
    // (/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}), which is how
    // ARM names a role definition in an assignment; the id ARM returns for a definition made at
    // resource-group scope carries the group's path and is not that form
    // (https://learn.microsoft.com/azure/role-based-access-control/role-assignments-rest). The GUID comes through
    // the definition's output, so the assignment waits for the definition to exist, and for its propagation.
    const spawnerRoleGuid = pulumi.all([spawnerRole.id, args.spawnerRole.id]).apply(([, guid]) => guid);
    assign('spawner-container-groups', 'spawner', spawnerRoleGuid, args.resourceGroupId, [spawnerRoleReady]);
    // Creating a group that runs as the pull identity needs the right to assign that identity, and only that one.
    assign('spawner-assign-pull', 'spawner', BUILT_IN_ROLES.managedIdentityOperator, this.pull.id);
    // The reaper copies each group's metrics before deleting it.
    assign('spawner-metrics', 'spawner', BUILT_IN_ROLES.monitoringReader, args.resourceGroupId);
    // The dashboard shows live logs and metrics: read only.
    assign('dashboard-reader', 'dashboard', BUILT_IN_ROLES.reader, args.resourceGroupId);

    this.registerOutputs({
      pullIdentityId: this.pull.id,
      spawnerIdentityId: this.spawner.id,
      dashboardIdentityId: this.dashboard.id,
      spawnerRoleDefinitionId: this.spawnerRoleDefinitionId,
    });
  }
}
