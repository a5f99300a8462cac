import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURE_KINDS, ROOT, tempDir } from '../helpers.js';
import { startStackProcess, type RunningStack } from '../local-stack-process.js';

/** The kinds a stack offers, read from its page's form (the select of kinds). */
async function offeredKinds(stack: RunningStack): Promise<string[]> {
  const page = await (await fetch(stack.url)).text();
  return [...page.matchAll(/<option value="([^"]+)">/g)].map((match) => match[1]!);
}

/**
 * Issue 32: a user who adds a kind to kinds.json (as the README invites) must not fail `npm test`.
 * Without touching the user's file, this runs a stack the way every test does (the helper) in a
 * folder holding a copy of the repository's kinds.json with one kind added: the folder a stack
 * reads kinds.json from by default. The control shows that folder's file would be read.
 */
describe('the tests run on their own kinds, never the kinds.json of the folder they run in', () => {
  let dir: ReturnType<typeof tempDir>;
  let stack: RunningStack | null = null;
  beforeEach(() => {
    dir = tempDir();
    const theirs = JSON.parse(readFileSync(join(ROOT, 'kinds.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir.path, 'kinds.json'), JSON.stringify({ ...theirs, flaky: { command: ['sh', '-c', 'exit 75'], retryExitCodes: [75] } }));
  });
  afterEach(async () => {
    await stack?.stop(2);
    stack = null;
    dir.remove();
  });

  it('offers the fixture kinds where the user added one', async () => {
    stack = await startStackProcess({ DATA_DIR: join(dir.path, 'data') }, { cwd: dir.path });
    const fixture = Object.keys(JSON.parse(readFileSync(FIXTURE_KINDS, 'utf8')) as object);
    expect(await offeredKinds(stack)).toEqual(['default', ...fixture]);
    // The start line names the file the kinds came from, and each kind.
    expect(stack.output()).toContain(`kinds: ${fixture.length + 1}, the built-in default and ${fixture.length} from ${FIXTURE_KINDS}`);
    expect(stack.output()).toMatch(/runtime: each task a process of its own \(CONTAINERS=process\); at most 4 at once \(MAX_CONCURRENT\)\n/);
    expect(stack.output()).toMatch(/ {2}kind wordcount: command sh examples\/wordcount\/wordcount\.sh, 0\.5 vCPU, 0\.5 GB\n[\s\S]*running at/);
  });

  it('control: without the fixture, the stack offers the kind the user added', async () => {
    stack = await startStackProcess({ DATA_DIR: join(dir.path, 'data'), KINDS_FILE: '' }, { cwd: dir.path });
    expect(await offeredKinds(stack)).toContain('flaky');
  });
});
