import { createSpawnerDeps } from '../composition.js';
import { readSpawnerSettings } from '../settings.js';
import type { SpawnerDeps } from '../spawner-deps.js';

let deps: Promise<SpawnerDeps> | null = null;

/**
 * One set of connections per Function instance, made on first use: a bad setting fails the
 * invocation with a message naming it (and is tried again on the next one).
 */
export function spawnerDeps(): Promise<SpawnerDeps> {
  deps ??= createSpawnerDeps(readSpawnerSettings(process.env)).catch((error: unknown) => {
    deps = null;
    throw error;
  });
  return deps;
}
