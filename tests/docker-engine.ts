import { DockerEngine } from '../apps/core/adapters/docker/docker-engine.js';

/**
 * The Docker engine at DOCKER_HOST (or the default socket), for the tests that run real
 * containers. CI starts one and requires these tests; elsewhere they say plainly that they
 * did not run.
 */
export async function dockerEngineOrSkip(what: string): Promise<DockerEngine | null> {
  const engine = new DockerEngine(DockerEngine.socketFromDockerHost(process.env.DOCKER_HOST));
  try {
    await engine.ping();
    return engine;
  } catch (error) {
    const why = `${what} need a Docker engine: ${(error as Error).message}`;
    if (process.env.CI) throw new Error(`CI requires ${why}`);
    console.warn(`SKIPPED: ${why}`);
    return null;
  }
}

/** TEMPORARY: the stand-in base until the worker image is built through the engine. */
export async function workerImageForTests(engine: DockerEngine): Promise<string> {
  const images = await engine.json<{ RepoTags: string[] | null }[]>('GET', '/images/json');
  const tag = images.body.flatMap((image) => image.RepoTags ?? []).find((t) => t.startsWith('event-driven-aci/standin-base:'));
  if (!tag) throw new Error('no stand-in base');
  return tag;
}
