import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKER_ENTRY_IN_BUILD } from '../stacks/local/worker-entry.js';

export { sleep };

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Built by `npm test` before vitest runs (`npm run build`): the worker as the local stack runs it. */
export const BUILT_WORKER = join(ROOT, 'dist', WORKER_ENTRY_IN_BUILD);
export const BUILT_LOCAL_STACK = join(ROOT, 'dist/stacks/local/main.js');
export const ECHO_WORKER = join(ROOT, 'tests/fixtures/echo-worker.mjs');
/**
 * The kinds every test's stack runs (KINDS_FILE): the repository's example, as a fixture of its
 * own, so that a user's edits to the root kinds.json (which the README invites) can't fail a test.
 */
export const FIXTURE_KINDS = join(ROOT, 'tests/fixtures/kinds/kinds.json');

/** `env` on the fixture kinds, unless it names others: what a test's settings read. */
export function withFixtureKinds(env: Record<string, string> = {}): Record<string, string> {
  return { KINDS_FILE: FIXTURE_KINDS, ...env };
}

/** What a test's stack reads: `env` only (never the parent's), on a free port, with the fixture kinds. */
export function stackEnv(env: Record<string, string> = {}): Record<string, string> {
  return withFixtureKinds({ PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'warn', ...env });
}

let supervisor: string | null = null;

/**
 * The process runtime's supervisor compiled from its source (as `npm run build` does) into a
 * folder of this test process's own: a test of the source does not depend on a build.
 */
export function compiledSupervisor(): string {
  if (supervisor) return supervisor;
  const out = join(mkdtempSync(join(tmpdir(), 'eda-supervisor-')), 'eda-supervise');
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-supervisor.mjs'), out], { stdio: 'pipe' });
  if (!existsSync(out)) throw new Error('the supervisor did not compile: is a C compiler (cc) installed?');
  supervisor = out;
  return out;
}

export function tempDir(prefix = 'eda-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}



/** Polls until `check` returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** The embedded store and queue in a folder, as most app tests use them. */
export async function openEmbedded(dir: string, queue: { maxDeliveryCount?: number; lockDurationMs?: number } = {}) {
  const { SqliteJobStore } = await import('../apps/core/adapters/sqlite/job-store.js');
  const { SqliteWorkQueue } = await import('../apps/core/adapters/sqlite/work-queue.js');
  return {
    databaseUri: `sqlite:${join(dir, 'jobs.db')}`,
    store: new SqliteJobStore(join(dir, 'jobs.db')),
    queue: new SqliteWorkQueue({
      path: join(dir, 'queue.db'),
      lockDurationMs: queue.lockDurationMs ?? 30_000,
      maxDeliveryCount: queue.maxDeliveryCount ?? 3,
      duplicateDetectionWindowMs: 600_000,
    }),
  };
}

/**
 * The kinds a test runs: the built-in worker's with these settings (WORK_SECONDS 0.2, a 60 s
 * timeout and the default retry policy unless told otherwise), and any others given.
 */
export async function testKinds(builtIn: { workSeconds?: number; timeoutSeconds?: number; retry?: import('../apps/core/domain/retry-policy.js').RetryPolicy } = {}, others: import('../apps/core/domain/task-kind.js').TaskKind[] = []) {
  const [{ defaultKind }, { KindCatalog }, { DEFAULT_RETRY_POLICY }] = await Promise.all([
    import('../apps/core/settings/kinds.js'),
    import('../apps/core/domain/task-kind.js'),
    import('../apps/core/domain/retry-policy.js'),
  ]);
  const kind = defaultKind({ cpu: 1, memoryGb: 1.5, timeoutSeconds: builtIn.timeoutSeconds ?? 60, retry: builtIn.retry ?? DEFAULT_RETRY_POLICY, workSeconds: builtIn.workSeconds ?? 0.2 });
  return new KindCatalog(kind, others);
}
