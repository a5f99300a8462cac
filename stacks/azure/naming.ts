import { createHash } from 'node:crypto';

/**
 * Every resource name of one stack, derived from the subscription, the Pulumi organization, the
 * project and the stack, so that many developers' stacks live side by side in one subscription
 * (two organizations may both have a stack called `dev`) and globally unique names (registry,
 * storage, Cosmos, Service Bus, web apps) do not collide across tenants. Each
 * name keeps to its resource's rules whatever the stack is called (long names are cut, a short
 * hash keeps them apart).
 */
export interface StackNames {
  resourceGroup: string;
  serviceBusNamespace: string;
  cosmosAccount: string;
  registry: string;
  storageAccount: string;
  dashboardPlan: string;
  dashboardApp: string;
  spawnerPlan: string;
  spawnerApp: string;
  pullIdentity: string;
  spawnerIdentity: string;
  dashboardIdentity: string;
  /** Role definition names are unique per tenant; the id must be a GUID. */
  spawnerRoleName: string;
  spawnerRoleId: string;
  /** The role that reads ACI's usage at subscription scope (quota-guard.ts): its own name and GUID. */
  usageRoleName: string;
  usageRoleId: string;
}

/** Lowercase letters, digits and single hyphens, no hyphen at either end, at most `max`. */
function hyphenated(text: string, max: number): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, max)
    .replace(/^-+|-+$/g, '');
}

function alphanumeric(text: string, max: number): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, max);
}

function uuidFromHash(hex: string): string {
  // A deterministic version-4-shaped id (RFC 9562 variant bits), stable across `pulumi up`.
  const h = hex.slice(0, 32).split('');
  h[12] = '4';
  h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** Where a stack lives: `pulumi.getOrganization()`, `getProject()`, `getStack()` and the subscription. */
export interface StackIdentity {
  subscriptionId: string;
  organization: string;
  project: string;
  stack: string;
}

export function stackNames({ subscriptionId, organization, project, stack }: StackIdentity): StackNames {
  // JSON keeps the parts apart: no organization/project pair can be spelt as another's.
  const digest = createHash('sha256').update(JSON.stringify([subscriptionId, organization, project, stack])).digest('hex');
  const hash = digest.slice(0, 8);
  const word = (max: number) => hyphenated(stack, max) || 'stack';
  const letters = (max: number) => alphanumeric(stack, max) || 'stack';
  return {
    // 1-90. The hash too: two organizations' `dev` stacks in one subscription get two groups.
    resourceGroup: `rg-eda-${word(70)}-${hash}`,
    // 6-50 characters, starts with a letter, ends with a letter or digit.
    serviceBusNamespace: `sb-eda-${word(30)}-${hash}`,
    // 3-44: lowercase letters, digits, hyphens.
    cosmosAccount: `cosmos-eda-${word(22)}-${hash}`,
    // 5-50: letters and digits only.
    registry: `acreda${letters(30)}${hash}`,
    // 3-24: lowercase letters and digits only.
    storageAccount: `steda${letters(11)}${hash}`,
    dashboardPlan: `plan-eda-dashboard-${word(40)}`,
    // 2-60, globally unique host names.
    dashboardApp: `app-eda-${word(36)}-${hash}`,
    spawnerPlan: `plan-eda-spawner-${word(40)}`,
    spawnerApp: `func-eda-${word(36)}-${hash}`,
    pullIdentity: `id-eda-pull-${word(60)}`,
    spawnerIdentity: `id-eda-spawner-${word(60)}`,
    dashboardIdentity: `id-eda-dashboard-${word(60)}`,
    spawnerRoleName: `event-driven-aci container groups (${word(60)} ${hash})`,
    spawnerRoleId: uuidFromHash(digest),
    usageRoleName: `event-driven-aci ACI usage reader (${word(60)} ${hash})`,
    usageRoleId: uuidFromHash(createHash('sha256').update(`${digest}:aci-usage-reader`).digest('hex')),
  };
}
