import * as pulumi from '@pulumi/pulumi';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SettingsError } from '../../apps/core/domain/errors.js';
import type { RetryPolicy } from '../../apps/core/domain/retry-policy.js';
import { parseKinds, type DeclaredKind, type KindDefaults } from '../../apps/core/domain/task-kind.js';
import { isImageReference, isPinned, registryOf, serverServesImage } from './image-reference.js';

/** A kind as the stack deploys it: an image built into the stack's registry, or one run as given. */
export interface StackKind {
  name: string;
  /** Built from the user's repository into the stack's registry (absolute paths). */
  build: { context: string; dockerfile: string } | null;
  /** Or an existing image, run as given. */
  image: string | null;
  /** Credentials for an image on another private registry; the password is a Pulumi secret. */
  registry: { server: string; username: string; password: pulumi.Output<string> } | null;
  cpu: number;
  memoryGb: number;
  timeoutSeconds: number;
  /** How long a start may be put off (ACI refusals, platform provisioning failures); absent: the timeout. */
  startWaitSeconds?: number;
  retry: RetryPolicy;
  env: Record<string, string>;
  /** Each value a Pulumi secret (and an ACI secure value in the container group). */
  secretEnv: Record<string, pulumi.Output<string>>;
  store: boolean;
}

const isFolder = (path: string) => statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
const isFile = (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() === true;

function buildPaths(build: NonNullable<DeclaredKind['build']>, projectRoot: string): { context: string; dockerfile: string } {
  const context = resolve(projectRoot, build.context);
  return { context, dockerfile: build.dockerfile ? resolve(projectRoot, build.dockerfile) : join(context, 'Dockerfile') };
}

/** What only a deployment can check: the folders to build exist, the images and registries are well formed. */
function deploymentProblems(kind: DeclaredKind, where: string, projectRoot: string): string[] {
  const problems: string[] = [];
  if (kind.build) {
    const { context, dockerfile } = buildPaths(kind.build, projectRoot);
    if (!isFolder(context)) problems.push(`${where}: build "${kind.build.context}" is not a folder (build paths are relative to the Pulumi project, ${projectRoot})`);
    else if (!isFile(dockerfile)) problems.push(`${where}: build has no Dockerfile at ${dockerfile}`);
    if (kind.registry) {
      problems.push(`${where}: registry is for an image on another private registry; a built image is pushed to the stack's own registry, which container groups pull with their identity`);
    }
  }
  if (kind.image) {
    if (!isImageReference(kind.image)) {
      problems.push(`${where}: image "${kind.image}" is not an image reference: [registry/]repository[:tag][@sha256:digest], the repository in lowercase`);
    } else if (kind.registry) {
      const { server } = kind.registry;
      if (/^[a-z]+:\/\//i.test(server)) problems.push(`${where}: registry.server is a host name such as ghcr.io, without a scheme (got "${server}")`);
      else if (!serverServesImage(server, kind.image)) {
        problems.push(`${where}: registry.server "${server}" is not the registry of image "${kind.image}" (${registryOf(kind.image)})`);
      }
    }
  }
  return problems;
}

/**
 * Reads the stack's kinds (`kinds` in Pulumi.<stack>.yaml, a structured value) with the apps'
 * own parser, then checks what a deployment needs. Every problem names the kind and the key, and
 * all are thrown together: nothing half-read is deployed. Secret values (secretEnv, a registry
 * password) leave as Pulumi secrets.
 */
export function readKinds(raw: unknown, source: string, defaults: KindDefaults, projectRoot: string): StackKind[] {
  if (raw === undefined) return [];
  const { kinds, problems } = parseKinds(raw, source, 'image-or-build', defaults);
  for (const kind of kinds) problems.push(...deploymentProblems(kind, `${source}: kind "${kind.name}"`, projectRoot));
  if (problems.length > 0) throw new SettingsError(problems.join('\n'));
  for (const kind of kinds) {
    if (kind.image && !isPinned(kind.image)) {
      pulumi.log.warn(`${source}: kind "${kind.name}": image ${kind.image} names a tag, which its registry may move to another image; name it by digest (@sha256:…) to run the same image every time`);
    }
  }
  return kinds.map((kind) => ({
    name: kind.name,
    build: kind.build ? buildPaths(kind.build, projectRoot) : null,
    image: kind.build ? null : kind.image,
    registry: kind.registry ? { server: kind.registry.server, username: kind.registry.username, password: pulumi.secret(kind.registry.password) } : null,
    cpu: kind.cpu,
    memoryGb: kind.memoryGb,
    timeoutSeconds: kind.timeoutSeconds,
    ...(kind.startWaitSeconds === undefined ? {} : { startWaitSeconds: kind.startWaitSeconds }),
    retry: kind.retry,
    env: kind.env,
    secretEnv: Object.fromEntries(Object.entries(kind.secretEnv).map(([name, value]) => [name, pulumi.secret(value)])),
    store: kind.store,
  }));
}
