import { fileURLToPath } from 'node:url';

/**
 * The Pulumi project's folder (where Pulumi.yaml is), the repository's root: the apps' images
 * build from it, and a kind's `build` paths are relative to it.
 */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
