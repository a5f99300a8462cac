import * as pulumi from '@pulumi/pulumi';
import { Sleep } from '@pulumiverse/time';

/**
 * How long a new role assignment, or a new custom role, is given before anything relies on it.
 * Microsoft Learn: "When you assign roles or remove role assignments, it can take up to 10
 * minutes for changes to take effect" (Troubleshoot Azure RBAC, "Symptom - Role assignment
 * changes are not being detected":
 * https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected).
 * Waiting the whole ten minutes after every grant would make each first `pulumi up` pay for the
 * worst case, so the lengths here are a judgement, not documented numbers; when a grant takes
 * longer, running `pulumi up` again finishes the deploy (README, "Grants and a first `pulumi up`").
 * The waits run in parallel with each other and with Cosmos DB's creation, which the apps wait
 * for anyway.
 */
export const ROLE_ASSIGNMENT_PROPAGATION = '120s';
/** A new custom role, before it is assigned: the assignment API may not know it yet (`RoleDefinitionDoesNotExist`). */
export const ROLE_DEFINITION_PROPAGATION = '60s';

/**
 * A bounded wait, on create only, after an authorization change (`after`) and before its first
 * use: whatever depends on the returned resource is created at least `duration` after `after` was.
 *
 * Why a plain sleep (`@pulumiverse/time` Sleep) and not a resource that polls until the grant
 * works: the grants here are used by managed identities, whose tokens exist only inside Azure,
 * so `pulumi up` cannot ask "does this work yet?" as the identity that will use it; polling as
 * the deployer would only show that ARM stored the assignment, which it has already said. A
 * sleep is honest about what it is (https://www.pulumi.com/registry/packages/time/api-docs/sleep/:
 * `createDuration` delays creation, "Updating this value by itself will not trigger a delay";
 * a change of `triggers` runs the delays again). Its `triggers` carry the id of what it waits for: Pulumi
 * replaces the sleep, and so waits again, only when that is replaced (a new assignment); an
 * unchanged stack never waits. The Sleep is served by the `time` provider plugin, which the
 * Pulumi CLI downloads at deploy time (README, "Grants and a first `pulumi up`").
 */
export function propagationWait(
  parent: pulumi.Resource,
  name: string,
  after: pulumi.CustomResource,
  duration: string,
): pulumi.Resource {
  return new Sleep(
    name,
    { createDuration: duration, triggers: { waitsFor: after.id } },
    { parent, dependsOn: [after] },
  );
}
