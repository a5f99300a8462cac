import * as pulumi from '@pulumi/pulumi';
import type { StackKind } from './kinds-config.js';

/**
 * The `KINDS` app setting the apps read (apps/core/kind-settings.ts, readKindsSetting): each
 * kind with its image resolved (a built kind by its digest in the stack's registry) and every
 * value written out, so no app falls back on defaults of its own. The spawner's holds everything
 * a container group needs, secrets included, and is a Pulumi secret; the dashboard's holds the
 * names, images and resources only: no environment, no secret value, no registry credential.
 */
export function kindsSettings(
  kinds: StackKind[],
  builtImages: Record<string, pulumi.Input<string>>,
): { spawner: pulumi.Output<string>; dashboard: pulumi.Output<string> } {
  const imageOf = (kind: StackKind): pulumi.Input<string> => {
    const image = kind.build ? builtImages[kind.name] : kind.image;
    if (!image) throw new Error(`kind "${kind.name}" has no image: it is neither built nor named`);
    return image;
  };
  const shown = (kind: StackKind) => ({
    image: imageOf(kind),
    cpu: kind.cpu,
    memoryGb: kind.memoryGb,
    timeoutSeconds: kind.timeoutSeconds,
    ...(kind.startWaitSeconds === undefined ? {} : { startWaitSeconds: kind.startWaitSeconds }),
    maxAttempts: kind.retry.maxAttempts,
    retryExitCodes: kind.retry.retryOnExitCodes,
    store: kind.store,
  });
  const spawner = Object.fromEntries(
    kinds.map((kind) => [
      kind.name,
      { ...shown(kind), ...(kind.registry ? { registry: kind.registry } : {}), env: kind.env, secretEnv: kind.secretEnv },
    ]),
  );
  const dashboard = Object.fromEntries(kinds.map((kind) => [kind.name, shown(kind)]));
  return {
    spawner: pulumi.secret(pulumi.output(spawner).apply((value) => JSON.stringify(value))),
    dashboard: pulumi.output(dashboard).apply((value) => JSON.stringify(value)),
  };
}
