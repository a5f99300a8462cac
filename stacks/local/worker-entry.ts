/**
 * The worker the local stack starts for each task, below the build's root (dist/): one bundle
 * that `npm run build` makes (scripts/bundle.mjs worker-local), since a task's start is mostly
 * Node's own and loading many modules adds to it (npm run bench, "worker cold start").
 */
export const WORKER_ENTRY_IN_BUILD = 'worker/worker.cjs';
