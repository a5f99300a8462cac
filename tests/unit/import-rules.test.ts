import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

// The house rules of docs/design.md ("Layout"), checked by reading every import statement, so
// that a change that breaks one fails here rather than in review.

const FILES = execFileSync('git', ['ls-files', 'apps', 'stacks', 'components', 'index.ts'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((file) => file.endsWith('.ts'));

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** What a file imports: repository files as paths from the root (`.ts`), packages by name. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((match) => {
    const specifier = (match[1] ?? match[2])!;
    return specifier.startsWith('.') ? normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts') : specifier;
  });
}

const GRAPH = new Map(FILES.map((file) => [file, importsOf(file)]));

function violations(files: (file: string) => boolean, forbidden: (target: string, file: string) => boolean): string[] {
  return [...GRAPH].filter(([file]) => files(file)).flatMap(([file, targets]) => targets.filter((t) => forbidden(t, file)).map((t) => `${file} → ${t}`));
}

const isPackage = (target: string) => !target.includes('/') || target.startsWith('@') || !target.endsWith('.ts');
const isNodeBuiltin = (target: string) => target.startsWith('node:');

/** The neutral ground between the apps and the Pulumi program: the store's schema. */
const NEUTRAL = 'apps/core/store-schema/';

/** Adapters that serve several technologies; everything else lives in its technology's folder. */
const SHARED_ADAPTERS = [
  'container-samples.ts',
  'container-table.ts',
  'ensure-directory.ts',
  'local-only.ts',
  'log-tail.ts',
  'open-job-store.ts',
  'open-quota-ledger.ts',
  'private-files.ts',
  'read-meter.ts',
  // Shared by the process and Docker runtimes (issue 26's stop reasons).
  'stop-reasons.ts',
  'wait-for-event.ts',
];
const TECHNOLOGY_FOLDERS = ['azure', 'docker', 'mongo', 'process', 'sqlite'];

/** The import statements of a file whose specifier names `target`, as written (for `import type`). */
function statementsNaming(file: string, target: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)]
    .filter((match) => {
      const specifier = (match[1] ?? match[2])!;
      return specifier.startsWith('.') && normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts') === target;
    })
    .map((match) => match[0].trim());
}

describe('import rules', () => {
  it('the domain (the job model and the ports) imports only itself and Node: no adapter, framework or SDK', () => {
    expect(
      violations(
        (file) => file.startsWith('apps/core/domain/'),
        (target) => !(target.startsWith('apps/core/domain/') || isNodeBuiltin(target)),
      ),
    ).toEqual([]);
  });

  it('within the apps, only composition roots and entry points choose adapters (the stacks compose them too)', () => {
    const roots = new Set(['apps/dashboard/composition.ts', 'apps/spawner/composition.ts', 'apps/worker/main.ts']);
    expect(
      violations(
        (file) => file.startsWith('apps/') && !file.startsWith('apps/core/adapters/') && !roots.has(file),
        (target) => target.startsWith('apps/core/adapters/'),
      ),
    ).toEqual([]);
  });

  it('no Function trigger reaches a concrete adapter: they get their ports from the composition', () => {
    expect(violations((file) => file.startsWith('apps/spawner/functions/'), (target) => target.startsWith('apps/core/adapters/'))).toEqual([]);
  });

  it('the apps never import Pulumi', () => {
    expect(violations((file) => file.startsWith('apps/'), (target) => target.startsWith('@pulumi/'))).toEqual([]);
  });

  it('nothing but the worker reaches into apps/worker', () => {
    expect(violations((file) => !file.startsWith('apps/worker/'), (target) => target.startsWith('apps/worker/'))).toEqual([]);
  });

  it('the apps never import the stacks or the Pulumi components', () => {
    expect(violations((file) => file.startsWith('apps/'), (target) => target.startsWith('stacks/') || target.startsWith('components/'))).toEqual([]);
  });

  it('components never read config: only stacks/azure/config.ts does', () => {
    const readers = FILES.filter((file) => /new pulumi\.Config\(|pulumi\.Config\b.*\(/.test(readFileSync(join(ROOT, file), 'utf8')));
    expect(readers).toEqual(['stacks/azure/config.ts']);
  });

  it('adapters import only the domain, other adapters, the neutral store schema and libraries: never settings/, not even a type', () => {
    expect(
      violations(
        (file) => file.startsWith('apps/core/adapters/'),
        (target) =>
          !(isPackage(target) || target.startsWith('apps/core/domain/') || target.startsWith('apps/core/adapters/') || target.startsWith(NEUTRAL)),
      ),
    ).toEqual([]);
  });

  it('the Pulumi components import no app code except the neutral store schema', () => {
    expect(
      violations(
        (file) => file.startsWith('components/'),
        (target) => !isPackage(target) && !target.startsWith('components/') && !target.startsWith(NEUTRAL),
      ),
    ).toEqual([]);
  });

  it('the neutral store schema imports nothing but Node and the domain types, so both sides may import it', () => {
    const schema = [...GRAPH.keys()].filter((file) => file.startsWith(NEUTRAL));
    expect(violations((file) => schema.includes(file), (target) => !(isNodeBuiltin(target) || target.startsWith('apps/core/domain/') || target.startsWith(NEUTRAL)))).toEqual([]);
    const valueImports = schema.flatMap((file) =>
      (GRAPH.get(file) ?? [])
        .filter((target) => target.startsWith('apps/core/domain/'))
        .flatMap((target) => statementsNaming(file, target).filter((statement) => !/^(import|export)\s+type\s/.test(statement))),
    );
    expect(valueImports).toEqual([]);
  });

  it('apps/core/adapters/ holds only technology folders and the shared adapters', () => {
    const entries = readdirSync(join(ROOT, 'apps/core/adapters'), { withFileTypes: true });
    expect(entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort()).toEqual(TECHNOLOGY_FOLDERS);
    expect(entries.filter((entry) => !entry.isDirectory()).map((entry) => entry.name).sort()).toEqual(SHARED_ADAPTERS);
  });

  it("docs/design.md's layout names every folder of the code, the tests (one level) and the tools", () => {
    const layout = /## Layout[^]*?```\n([^]*?)```/.exec(readFileSync(join(ROOT, 'docs/design.md'), 'utf8'))![1]!;
    const lines = layout.split('\n');
    // A top-level path is written whole at the start of a line; a subfolder by its name, indented under its parent.
    const named = (dir: string) =>
      lines.some((line) => line.startsWith(`${dir}/`)) ||
      lines.some((line) => /^\s/.test(line) && line.trimStart().split(/\s{2,}/)[0]!.split(' ').includes(`${dir.split('/').pop()}/`));
    const dirs = new Set(
      execFileSync('git', ['ls-files', 'apps', 'stacks', 'components', 'tests', 'bench', 'scripts'], { cwd: ROOT, encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((file) => dirname(file).split('/').slice(0, file.startsWith('tests/') ? 2 : undefined).join('/'))
        .filter((dir) => dir !== 'apps' && dir !== 'apps/core' && dir !== 'stacks'),
    );
    expect(dirs.size).toBeGreaterThan(20);
    expect([...dirs].filter((dir) => !named(dir)).sort()).toEqual([]);
  });

  it('no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'visiting');
      for (const target of GRAPH.get(file) ?? []) if (GRAPH.has(target)) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of GRAPH.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('reads the imports it checks (a guard against a pattern that matches nothing)', () => {
    expect(GRAPH.get('apps/spawner/dispatch.ts')).toContain('apps/core/domain/job.ts');
    expect(GRAPH.get('apps/core/adapters/sqlite/driver-better-sqlite3.ts')).toContain('better-sqlite3');
    expect(isPackage('better-sqlite3')).toBe(true);
    expect(GRAPH.get('components/database.ts')).toContain('apps/core/store-schema/indexes.ts');
    expect(GRAPH.get('apps/core/adapters/mongo/indexes.ts')).toContain('apps/core/store-schema/indexes.ts');
    expect(GRAPH.get('apps/core/adapters/azure/aci-runtime.ts')).toContain('apps/core/adapters/azure/options.ts');
    // A type-only import is an import: the rules above see it.
    expect(GRAPH.get('apps/core/adapters/sqlite/driver-better-sqlite3.ts')).toContain('apps/core/adapters/sqlite/driver.ts');
  });
});
