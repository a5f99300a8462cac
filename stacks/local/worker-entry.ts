/** The worker the local stack starts for each task: its path below the build's root (dist/). */
export const WORKER_ENTRY_IN_BUILD = 'apps/worker/main.js';
