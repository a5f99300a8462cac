import { DockerEngine } from '../apps/core/adapters/docker/docker-engine.js';
import { errorMessage } from '../apps/core/domain/errors.js';

/**
 * The Docker engine at DOCKER_HOST (or /var/run/docker.sock), for the tests that need one. CI
 * starts one and requires these tests; elsewhere they say plainly that they did not run.
 */
export async function dockerEngineOrSkip(what: string): Promise<DockerEngine | null> {
  const engine = new DockerEngine(DockerEngine.socketFromDockerHost(process.env.DOCKER_HOST));
  try {
    await engine.ping();
    return engine;
  } catch (error) {
    const why = `${what} needs a Docker engine at ${engine.socketPath} (${errorMessage(error)})`;
    if (process.env.CI) throw new Error(`CI requires ${why}`);
    console.warn(`SKIPPED: ${why}`);
    return null;
  }
}
