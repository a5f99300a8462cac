import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYER, mockedAzureStack, TOKEN, transitiveDependencies, type Recorded } from './pulumi-mocks.js';

const ASSIGNMENT = 'azure-native:authorization:RoleAssignment';
const DEFINITION = 'azure-native:authorization:RoleDefinition';
const WAIT = 'time:index/sleep:Sleep';

/** Seconds in a Go duration as the time provider reads it ("90s", "2m", "1m30s"). */
function seconds(duration: string): number {
  const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)];
  expect(parts.map((p) => p[0]).join(''), `a Go duration: ${duration}`).toBe(duration);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * { h: 3600, m: 60, s: 1 }[unit as 'h' | 'm' | 's'], 0);
}

/** The waits (Sleeps) that come after `earlier` and before `later` in the dependency graph. */
function waitsBetween(resources: Recorded[], earlier: Recorded, later: Recorded): Recorded[] {
  const beforeLater = transitiveDependencies(resources, later.urn);
  return resources.filter((r) => r.type === WAIT && beforeLater.has(r.urn) && transitiveDependencies(resources, r.urn).has(earlier.urn));
}

/**
 * Who uses each principal's grants, as the graph shows it: the spawner's identity is used by the
 * Function app and by its one deploy (the first code that runs as it); the pull identity's by the
 * same two, because each container group the spawner creates pulls with it; the dashboard's by
 * its Web App; the deployer's AcrPush by every image push.
 */
function usersByPrincipal(resources: Recorded[]): Map<string, Recorded[]> {
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const identity = (role: string) => ofType('azure-native:managedidentity:UserAssignedIdentity').find((r) => r.inputs.resourceName.startsWith(`id-eda-${role}`))!;
  const webApp = (kind: string) => ofType('azure-native:web:WebApp').filter((r) => r.inputs.kind === kind);
  const oneDeploy = ofType('azure-native:resources:Deployment').filter((r) => String(r.inputs.deploymentName).endsWith('-onedeploy'));
  const spawner = [...webApp('functionapp,linux'), ...oneDeploy];
  expect(spawner).toHaveLength(2);
  expect(webApp('app,linux,container')).toHaveLength(1);
  return new Map([
    [identity('spawner').state.principalId, spawner],
    [identity('pull').state.principalId, spawner],
    [identity('dashboard').state.principalId, webApp('app,linux,container')],
    [DEPLOYER, ofType('docker:index/image:Image')],
  ]);
}

/**
 * Every place where something is used without a wait after what it relies on: each role
 * assignment in the graph (found by type, so grants added later are checked too) before each
 * user of its principal, and each role definition before each assignment of it.
 */
function unwaited(resources: Recorded[]): string[] {
  const users = usersByPrincipal(resources);
  const found: string[] = [];
  for (const assignment of resources.filter((r) => r.type === ASSIGNMENT)) {
    const usedBy = users.get(assignment.inputs.principalId);
    if (!usedBy) {
      found.push(`${assignment.name}: for principal ${assignment.inputs.principalId}, whose user this test does not know; add it to usersByPrincipal`);
      continue;
    }
    for (const user of usedBy) {
      if (waitsBetween(resources, assignment, user).length === 0) found.push(`${assignment.name} → ${user.name}`);
    }
  }
  for (const definition of resources.filter((r) => r.type === DEFINITION)) {
    const assignments = resources.filter(
      (r) => r.type === ASSIGNMENT && (r.inputs.roleDefinitionId as string).endsWith(`/roleDefinitions/${definition.inputs.roleDefinitionId}`),
    );
    if (assignments.length === 0) found.push(`${definition.name}: never assigned`);
    for (const assignment of assignments) {
      if (waitsBetween(resources, definition, assignment).length === 0) found.push(`${definition.name} → ${assignment.name}`);
    }
  }
  return found;
}

/** The graph with `from`'s direct dependencies on waits removed: what the program would be without them. */
function withoutWaitsBefore(resources: Recorded[], from: Recorded): Recorded[] {
  const waits = new Set(resources.filter((r) => r.type === WAIT).map((r) => r.urn));
  return resources.map((r) => (r.urn === from.urn ? { ...r, dependencies: r.dependencies.filter((d) => !waits.has(d)) } : r));
}

describe('a first pulumi up: every grant has time to take effect before its first use', () => {
  let resources: Recorded[];

  beforeAll(async () => {
    ({ resources } = await mockedAzureStack({
      stack: 'dev',
      config: { 'azure-native:location': 'westeurope', 'event-driven-aci:dashboardToken': TOKEN },
      secretKeys: ['event-driven-aci:dashboardToken'],
    }));
  }, 60_000);

  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const byUrn = () => new Map(resources.map((r) => [r.urn, r]));

  it('creates the spawner, its one deploy, the dashboard and each image push after a wait that follows every grant they use', () => {
    // Every grant in the graph, the pull identity's AcrPull among them.
    expect(ofType(ASSIGNMENT).length).toBeGreaterThanOrEqual(11);
    expect(unwaited(resources)).toEqual([]);
  });

  it('waits between each role definition and its assignments', () => {
    const definitions = ofType(DEFINITION);
    // The spawner's custom role; a role added later is checked the same way.
    expect(definitions.length).toBeGreaterThanOrEqual(1);
    for (const definition of definitions) {
      const assigned = ofType(ASSIGNMENT).filter((r) => (r.inputs.roleDefinitionId as string).endsWith(`/${definition.inputs.roleDefinitionId}`));
      expect(assigned.length, definition.name).toBeGreaterThanOrEqual(1);
      for (const assignment of assigned) {
        const waits = waitsBetween(resources, definition, assignment);
        expect(waits.map((w) => w.inputs.triggers), assignment.name).toContainEqual({ waitsFor: definition.state.id });
      }
    }
  });

  it('waits on create only: each wait has a create duration, none on destroy, and is made again only with what it follows', () => {
    const waits = ofType(WAIT);
    const urns = byUrn();
    // One wait after each assignment and each definition, and no other.
    expect(waits).toHaveLength(ofType(ASSIGNMENT).length + ofType(DEFINITION).length);
    const followed = new Set<string>();
    for (const wait of waits) {
      const duration = seconds(wait.inputs.createDuration);
      expect(duration, wait.name).toBeGreaterThanOrEqual(30);
      // A bound: Learn's "up to 10 minutes" is the most any single wait should cost.
      expect(duration, wait.name).toBeLessThanOrEqual(600);
      expect(wait.inputs.destroyDuration, wait.name).toBeUndefined();
      // The sleep is replaced, so it waits again, only when what it follows is replaced: its id is the trigger.
      const after = wait.dependencies.map((urn) => urns.get(urn)!).filter((r) => r.type === ASSIGNMENT || r.type === DEFINITION);
      expect(after, wait.name).toHaveLength(1);
      expect(wait.inputs.triggers, wait.name).toEqual({ waitsFor: after[0]!.state.id });
      followed.add(after[0]!.urn);
    }
    expect(followed.size).toBe(waits.length);
  });

  it('would report a grant used without its wait: the check itself can fail', () => {
    const dashboard = ofType('azure-native:web:WebApp').find((r) => r.inputs.kind === 'app,linux,container')!;
    const dashboardPrincipal = ofType('azure-native:managedidentity:UserAssignedIdentity').find((r) => r.inputs.resourceName.startsWith('id-eda-dashboard'))!.state.principalId;
    const dashboardGrants = ofType(ASSIGNMENT).filter((r) => r.inputs.principalId === dashboardPrincipal);
    // AcrPull, Reader, queue send and receive.
    expect(dashboardGrants).toHaveLength(4);
    expect(unwaited(withoutWaitsBefore(resources, dashboard)).sort()).toEqual(dashboardGrants.map((g) => `${g.name} → ${dashboard.name}`).sort());

    const [definition] = ofType(DEFINITION);
    const assignment = ofType(ASSIGNMENT).find((r) => (r.inputs.roleDefinitionId as string).endsWith(`/${definition!.inputs.roleDefinitionId}`))!;
    expect(unwaited(withoutWaitsBefore(resources, assignment))).toEqual([`${definition!.name} → ${assignment.name}`]);

    // A grant for someone the test cannot place is reported, not passed over.
    const stranger = { ...dashboardGrants[0]!, urn: 'urn:stranger', name: 'stranger', inputs: { ...dashboardGrants[0]!.inputs, principalId: 'someone-else' } };
    expect(unwaited([...resources, stranger])).toEqual([expect.stringMatching(/^stranger: for principal someone-else/)]);
  });
});
