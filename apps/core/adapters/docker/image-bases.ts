import type { DockerEngine } from './docker-engine.js';
import type { BuildLog } from './image-build.js';
import { pullIfMissing } from './image-pull.js';

/** A base a Dockerfile takes as a build arg: `ARG BUILD_IMAGE=node:22-bookworm-slim` … `FROM ${BUILD_IMAGE}`. */
export interface BaseArg {
  arg: string;
  /** Its default: the real base. */
  image: string;
}

/**
 * The bases a Dockerfile leaves to build args: the ARGs declared with a default before its
 * first FROM and named by a FROM. A FROM of a fixed image or of an earlier stage is not one.
 */
export function baseArgsOf(dockerfile: string): BaseArg[] {
  const defaults = new Map<string, string>();
  const used = new Set<string>();
  let seenFrom = false;
  for (const line of dockerfile.split(/\r?\n/).map((l) => l.trim())) {
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)=("?)(\S+?)\2$/i.exec(line);
    if (arg && !seenFrom) defaults.set(arg[1]!, arg[3]!);
    const from = /^FROM\s+(?:--\S+\s+)*\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?(?:\s|$)/i.exec(line);
    if (/^FROM\s/i.test(line)) seenFrom = true;
    if (from) used.add(from[1]!);
  }
  return [...used].filter((arg) => defaults.has(arg)).map((arg) => ({ arg, image: defaults.get(arg)! }));
}

/**
 * The build args that choose a Dockerfile's bases. The real ones (its defaults) when the
 * engine has them or can pull them: no args, so the build is the one a deployment makes.
 * Where one cannot be had (no registry, as on this project's CI), the stand-in base for every
 * base arg: built from this machine's own Node 22 (scripts/make-standin-base.sh), so that the
 * Dockerfile builds unchanged. Says in `log`, on one line, which bases and why.
 */
export async function chooseBases(engine: DockerEngine, dockerfile: string, standIn: () => Promise<string>, log: BuildLog): Promise<Record<string, string>> {
  const bases = baseArgsOf(dockerfile);
  if (bases.length === 0) return {};
  const found: string[] = [];
  for (const base of bases) {
    const outcome = await pullIfMissing(engine, base.image, log);
    if (!outcome.ok) {
      const image = await standIn();
      log(`bases: the stand-in ${image} as ${bases.map((b) => b.arg).join(' and ')}, since ${base.image} is not on the engine and could not be pulled (${outcome.why})`);
      return Object.fromEntries(bases.map((b) => [b.arg, image]));
    }
    found.push(`${base.image} (${outcome.how})`);
  }
  log(`bases: the real ones, ${found.join(', ')}`);
  return {};
}
