import { describe, expect, it } from 'vitest';
import { KindCatalog, type TaskKind } from '../../apps/core/domain/task-kind.js';
import { defaultKind } from '../../apps/core/settings/kinds.js';
import { startSummary } from '../../stacks/local/start-summary.js';

const builtIn = defaultKind({ cpu: 1, memoryGb: 1.5, timeoutSeconds: 600, retry: { maxAttempts: 3, retryOnExitCodes: [] }, workSeconds: 5 });
const kind = (name: string, program: Partial<TaskKind>): TaskKind => ({ ...builtIn, name, command: null, image: null, store: false, cpu: 0.5, memoryGb: 0.5, env: {}, ...program });

describe('the start line', () => {
  const settings = { containers: 'process' as const, dockerSocket: '/var/run/docker.sock', maxConcurrent: 4, kindsFile: '/repo/kinds.json' };

  it('names the runtime, the cap, and each kind with its program, cpu and memory', () => {
    const kinds = new KindCatalog(builtIn, [kind('wordcount', { command: ['sh', 'examples/wordcount/wordcount.sh'] }), kind('quoted', { command: ['sh', '-c', "echo it's"], cpu: 2, memoryGb: 4 })]);
    expect(startSummary(settings, kinds)).toEqual([
      'runtime: each task a process of its own (CONTAINERS=process); at most 4 at once (MAX_CONCURRENT)',
      'kinds: 3, the built-in default and 2 from /repo/kinds.json',
      '  kind default: the built-in worker, 1 vCPU, 1.5 GB',
      '  kind wordcount: command sh examples/wordcount/wordcount.sh, 0.5 vCPU, 0.5 GB',
      "  kind quoted: command sh -c 'echo it'\\''s', 2 vCPU, 4 GB",
    ]);
  });

  it('with CONTAINERS=docker, the engine and each kind by its image', () => {
    const kinds = new KindCatalog(builtIn, [kind('wordcount', { image: 'event-driven-aci/kind-wordcount:0123456789abcdef' })]);
    const lines = startSummary({ ...settings, containers: 'docker', maxConcurrent: 2 }, kinds);
    expect(lines[0]).toBe('runtime: each task a Docker container (CONTAINERS=docker, engine at /var/run/docker.sock); at most 2 at once (MAX_CONCURRENT)');
    expect(lines[3]).toBe('  kind wordcount: image event-driven-aci/kind-wordcount:0123456789abcdef, 0.5 vCPU, 0.5 GB');
  });

  it('says when there are no kinds of the user', () => {
    expect(startSummary(settings, new KindCatalog(builtIn))[1]).toBe('kinds: the built-in default alone (none in /repo/kinds.json)');
  });
});
