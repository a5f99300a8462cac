import { DEFAULT_KIND, type KindCatalog, type TaskKind } from '../../apps/core/domain/task-kind.js';
import type { LocalSettings } from './settings.js';

/**
 * What `npm start` says it runs, before its URL: how tasks run and how many at once, then one
 * line per kind (its program, cpu and memory), so that a user sees at once which kinds file was
 * read and what each task will get.
 */
export function startSummary(settings: Pick<LocalSettings, 'containers' | 'dockerSocket' | 'maxConcurrent' | 'kindsFile'>, kinds: KindCatalog): string[] {
  const runtime =
    settings.containers === 'docker' ? `each task a Docker container (CONTAINERS=docker, engine at ${settings.dockerSocket})` : 'each task a process of its own (CONTAINERS=process)';
  const others = kinds.names().length - 1;
  return [
    `runtime: ${runtime}; at most ${settings.maxConcurrent} at once (MAX_CONCURRENT)`,
    others === 0 ? `kinds: the built-in default alone (none in ${settings.kindsFile})` : `kinds: ${others + 1}, the built-in default and ${others} from ${settings.kindsFile}`,
    ...kinds.names().map((name) => kindLine(kinds.get(name)!)),
  ];
}

function kindLine(kind: TaskKind): string {
  const program = kind.name === DEFAULT_KIND ? 'the built-in worker' : kind.image ? `image ${kind.image}` : `command ${(kind.command ?? []).map(quoted).join(' ')}`;
  return `  kind ${kind.name}: ${program}, ${kind.cpu} vCPU, ${kind.memoryGb} GB`;
}

/** A word as a shell would need it, so the line reads as the command it is. */
function quoted(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
