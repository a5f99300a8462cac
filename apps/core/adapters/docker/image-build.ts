import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../../domain/errors.js';
import { buildContextTar, digestBuildContext, readBuildContext } from './build-context.js';
import { DockerEngineError, type DockerEngine } from './docker-engine.js';
import { progressError, progressLines } from './engine-progress.js';

/** An image to build from a folder, named by what goes into it. */
export interface ImageBuild {
  /** The folder sent as the build context. */
  context: string;
  /** The Dockerfile, relative to the context. */
  dockerfile: string;
  /** The image's repository, `event-driven-aci/worker` say: its tag is the content hash. */
  repository: string;
  buildArgs?: Record<string, string>;
}

/** Where a build's progress goes, a line at a time. */
export type BuildLog = (line: string) => void;

/** A build the engine ran and refused: the Dockerfile, the step, the step's own message and its likely cause. */
export class ImageBuildError extends AppError {
  /** The same in one line, without the step's output (which went to the build's log as it came). */
  readonly summary: string;

  constructor(dockerfile: string, step: string | null, message: string, output: string[]) {
    const at = step ? ` at ${step}` : '';
    const cause = likelyCause(step, message, output);
    const summary = `building ${dockerfile} failed${at}: ${message}${cause ? `; likely cause: ${cause}` : ''}`;
    const said = output.length > 0 ? `\n${output.map((line) => `  ${line}`).join('\n')}` : '';
    super('IMAGE_BUILD', `${summary}${said}`);
    this.summary = summary;
  }
}

// What a step that fails for want of the network says: Node's and npm's error codes, npm's
// own words when its requests never finish, apk's, apt's, pip's and curl's.
const NETWORK_SAYS = /\b(ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ECONNRESET|ENETUNREACH|EHOSTUNREACH)\b|Exit handler never called|network is unreachable|Temporary failure (in name resolution|resolving)|Could not resolve|Failed to establish a new connection|fetch failed|unable to select packages|Connection timed out/i;
const DOWNLOADING_STEP = /^Step \d+\/\d+ : RUN .*\b(npm (ci|install|i)|yarn|pnpm|pip3? install|apk add|apt-get|curl|wget|git clone|go mod download)\b/;

/**
 * The likely cause of a failed step, where its words or its command make one plain: a step that
 * downloads (a RUN npm ci, say) and whose output says the network failed needs the registry it
 * names, which the build reaches through the host's network; a base that could not be had; a
 * file missing from the context. Null when nothing makes one plain.
 */
export function likelyCause(step: string | null, message: string, output: string[]): string | null {
  const said = [message, ...output].join('\n');
  if (NETWORK_SAYS.test(said) || (step !== null && DOWNLOADING_STEP.test(step) && /network|registry|timed? ?out|socket|proxy/i.test(said))) {
    return 'the step downloads (npm\'s registry, say) and could not reach it: check that this machine reaches it (a proxy, DNS); the build uses the host\'s network, as task containers do';
  }
  if (step !== null && /^Step \d+\/\d+ : FROM /.test(step)) return 'its base image is neither on the engine nor to be pulled: pull or build it first';
  if (/pull access denied|manifest unknown|not found: manifest/i.test(said)) return 'an image it names is neither on the engine nor to be pulled: pull or build it first';
  if (step !== null && /^Step \d+\/\d+ : (COPY|ADD) /.test(step)) return 'a file it copies is not in the build context (the folder built from, less what .dockerignore leaves out)';
  return null;
}

// Marks the images this module made, and the folder each was built from, so that only they are
// ever removed as out of date, and never by a build from another checkout on the same engine.
const BUILT_BY_LABEL = 'event-driven-aci.content-tagged';
const BUILT_FROM_LABEL = 'event-driven-aci.built-from';
// Output lines of the failing step kept in the error (the whole log went to `log`), without
// the builder's own lines about its containers and layers.
const OUTPUT_IN_ERROR = 12;
const BUILDER_CHATTER = /^( ---> |Removing intermediate container )/;
const SILENCE_MS = 20_000;

/**
 * The image of a build, `<repository>:<hash>`, where the hash covers everything the build is
 * given: the context after .dockerignore (Dockerfile included), the Dockerfile's path and the
 * build args. When the engine has that tag nothing is built, so a second call costs a read of
 * the context and one request. Otherwise it is built through the Engine API (the classic
 * builder of API 1.41), its output sent to `log`, and the older tags this made in the same
 * repository are removed, except those a container still uses.
 */
export async function ensureBuiltImage(engine: DockerEngine, build: ImageBuild, log: BuildLog): Promise<string> {
  const context = readBuildContext(build.context, build.dockerfile);
  const dockerfilePath = join(context.folder, context.dockerfile);
  const buildArgs = build.buildArgs ?? {};
  const hash = createHash('sha256')
    .update(JSON.stringify({ context: digestBuildContext(context), dockerfile: context.dockerfile, buildArgs: sortedEntries(buildArgs) }))
    .digest('hex')
    .slice(0, 16);
  const tag = `${build.repository}:${hash}`;
  if (await imageExists(engine, tag)) return tag;

  log(`building ${tag} from ${context.dockerfile} in ${context.folder}`);
  const started = Date.now();
  const response = await engine
    .stream('POST', '/build', {
      query: {
        t: tag,
        dockerfile: context.dockerfile,
        buildargs: JSON.stringify(buildArgs),
        labels: JSON.stringify({ [BUILT_BY_LABEL]: build.repository, [BUILT_FROM_LABEL]: folderId(context.folder) }),
        rm: true,
        forcerm: true,
        // The RUN steps use the host's network, as task containers do (DockerRuntime): an engine
        // without a default bridge (dockerd --bridge=none) builds too, and `npm ci` reaches the
        // registry wherever this machine does. Engine API 1.41, POST /build, `networkmode`.
        networkmode: 'host',
      },
      headers: { 'content-type': 'application/x-tar' },
      body: buildContextTar(context),
    })
    .catch((error: unknown) => {
      // Refused before it started (a Dockerfile it cannot read, say): the same error as a failed step.
      if (error instanceof DockerEngineError) throw new ImageBuildError(dockerfilePath, null, error.message, []);
      throw error;
    });
  await followBuild(response, dockerfilePath, log);
  if (!(await imageExists(engine, tag))) throw new ImageBuildError(dockerfilePath, null, `the build ended without an error, yet there is no image ${tag}`, []);
  log(`built ${tag} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await removeOlderTags(engine, build.repository, context.folder, tag, log);
  return tag;
}

/**
 * Sends a build's output to `log` as it comes, and throws on the line that reports a failure,
 * with the step it failed at and that step's last lines. A step can be silent for minutes
 * (`npm ci`), so a silence says which step is still running.
 */
async function followBuild(response: Readable, dockerfilePath: string, log: BuildLog): Promise<void> {
  let step: string | null = null;
  let stepOutput: string[] = [];
  let lastLine = Date.now();
  const heartbeat = setInterval(() => {
    const silent = Date.now() - lastLine;
    if (step && silent >= SILENCE_MS) log(`still at ${step} (${Math.round(silent / 1000)} s without output)`);
  }, SILENCE_MS);
  try {
    for await (const line of progressLines(response)) {
      lastLine = Date.now();
      const error = progressError(line);
      if (error !== null) throw new ImageBuildError(dockerfilePath, step, error, stepOutput.slice(-OUTPUT_IN_ERROR));
      // The classic builder colours a step's stderr (ESC[91m … ESC[0m): plain text is for a log.
      for (const text of (line.stream ?? '').replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trimEnd())) {
        if (text === '') continue;
        log(text);
        if (/^Step \d+\/\d+ : /.test(text)) {
          step = text;
          stepOutput = [];
        } else if (!BUILDER_CHATTER.test(text)) stepOutput.push(text);
      }
    }
  } finally {
    clearInterval(heartbeat);
  }
}

export async function imageExists(engine: DockerEngine, reference: string): Promise<boolean> {
  const reply = await engine.json('GET', `/images/${reference}/json`, { accept: [404] });
  return reply.status === 200;
}

async function removeOlderTags(engine: DockerEngine, repository: string, folder: string, keep: string, log: BuildLog): Promise<void> {
  const filters = JSON.stringify({ reference: [repository], label: [`${BUILT_BY_LABEL}=${repository}`, `${BUILT_FROM_LABEL}=${folderId(folder)}`] });
  const { body: images } = await engine.json<{ RepoTags?: string[] | null }[]>('GET', '/images/json', { query: { filters } });
  const older = images.flatMap((image) => image.RepoTags ?? []).filter((tag) => tag.startsWith(`${repository}:`) && tag !== keep);
  for (const tag of older) {
    // 409: a container (running or not) still uses it; it goes once that container has gone.
    const reply = await engine.json('DELETE', `/images/${tag}`, { accept: [404, 409] });
    if (reply.status === 200) log(`removed the older image ${tag}`);
  }
}

/** A label value for a folder on this machine: its path, hashed (labels are shown; paths may say more than needed). */
function folderId(folder: string): string {
  return createHash('sha256').update(folder).digest('hex').slice(0, 16);
}

function sortedEntries(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
