import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { AppError } from '../../domain/errors.js';
import type { DockerEngine } from './docker-engine.js';
import type { BuildLog } from './image-build.js';

export class StandInBaseError extends AppError {
  constructor(message: string) {
    super('STANDIN_BASE', `the stand-in base could not be made (bash scripts/make-standin-base.sh): ${message}`);
  }
}

// One run per engine and repository in a process: the script hashes the Node binary and its
// libraries (half a second), and what it makes changes only with this machine's files.
const made = new Map<string, Promise<string>>();

/**
 * The stand-in base for Dockerfiles whose real bases cannot be pulled, as
 * scripts/make-standin-base.sh makes it: it reuses the image when it already exists, and
 * prints its tag. It drives the docker CLI (a base is made once, by `docker import`), pointed
 * at the same engine as this client.
 */
export function standInBase(engine: DockerEngine, repoRoot: string, log: BuildLog): () => Promise<string> {
  return () => {
    const key = `${engine.socketPath}\0${repoRoot}`;
    let tag = made.get(key);
    if (!tag) {
      tag = runScript(engine, repoRoot, log);
      made.set(key, tag);
      tag.catch(() => made.delete(key));
    }
    return tag;
  };
}

function runScript(engine: DockerEngine, repoRoot: string, log: BuildLog): Promise<string> {
  const script = join(repoRoot, 'scripts/make-standin-base.sh');
  const env = { ...process.env, DOCKER_HOST: `unix://${engine.socketPath}` };
  return new Promise((resolve, reject) => {
    execFile('bash', [script], { cwd: repoRoot, env, timeout: 600_000 }, (error, stdout, stderr) => {
      // Its stderr says what it made or installed; npm's own noise is left out.
      for (const line of stderr.split('\n')) if (/^(made|removed) /.test(line)) log(line);
      const tag = stdout.trim().split('\n').pop() ?? '';
      if (error) reject(new StandInBaseError(stderr.trim() || error.message));
      else if (!/^event-driven-aci\/standin-base:[0-9a-f]+$/.test(tag)) reject(new StandInBaseError(`it printed "${stdout.trim()}", not a tag`));
      else resolve(tag);
    });
  });
}
