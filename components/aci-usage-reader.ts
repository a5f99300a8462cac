import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import { propagationWait, ROLE_DEFINITION_PROPAGATION } from './propagation-wait.js';
import { grant } from './role-assignment.js';
import { USAGE_READ_ACTIONS } from './role-definitions.js';

export interface AciUsageReaderArgs {
  subscriptionId: pulumi.Input<string>;
  /** Who reads the usage: the spawner's identity. */
  principalId: pulumi.Input<string>;
  role: { name: pulumi.Input<string>; id: pulumi.Input<string> };
}

/**
 * The right to read ACI's usage in the subscription's regions, and only that: a custom role with
 * one action, defined and assigned at subscription scope (the usage is a subscription-scope
 * resource, while the spawner's other rights stay at the resource group). Creating it needs
 * the deployer to hold `Microsoft.Authorization/roleDefinitions/write` and
 * `roleAssignments/write` on the subscription (Owner or User Access Administrator there). The
 * spawner works without it, counting from the store and ACI's refusals.
 */
export class AciUsageReader extends pulumi.ComponentResource {
  readonly roleDefinitionId: pulumi.Output<string>;
  /** The assignment's propagation wait: the spawner depends on it, as on every grant it uses. */
  readonly grant: pulumi.Resource;

  constructor(name: string, args: AciUsageReaderArgs, opts?: pulumi.ComponentResourceOptions) {
    super('event-driven-aci:identity:AciUsageReader', name, {}, opts);
    const subscriptionScope = pulumi.interpolate`/subscriptions/${args.subscriptionId}`;
    const role = new authorization.RoleDefinition(
      `${name}-role`,
      {
        roleDefinitionId: args.role.id,
        roleName: args.role.name,
        description: "Read Azure Container Instances' usage and quotas per region: what the event-driven-aci spawner counts against.",
        roleType: 'CustomRole',
        scope: subscriptionScope,
        assignableScopes: [subscriptionScope],
        permissions: [{ actions: [...USAGE_READ_ACTIONS], notActions: [] }],
      },
      // Nothing in the group orders this one: it waits for what the component was told to (the provider registrations).
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.roleDefinitionId = role.id;
    // The GUID through the definition's output, so the assignment waits for the definition (as identity.ts does).
    const roleGuid = pulumi.all([role.id, args.role.id]).apply(([, guid]) => guid);
    // The assignment API can answer RoleDefinitionDoesNotExist for a role defined moments ago.
    const roleReady = propagationWait(this, `${name}-role-propagation`, role, ROLE_DEFINITION_PROPAGATION);
    this.grant = grant(this, `${name}-spawner`, { principalId: args.principalId, role: roleGuid, scope: subscriptionScope, subscriptionId: args.subscriptionId, after: [roleReady] });
    this.registerOutputs({ roleDefinitionId: this.roleDefinitionId });
  }
}
