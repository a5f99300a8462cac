import * as pulumi from '@pulumi/pulumi';
import { RandomBytes } from '@pulumi/random';

/** Random bytes in a generated token: 256 bits, as hex (64 characters). */
export const GENERATED_TOKEN_BYTES = 32;

/**
 * The dashboard's access token: the one configured (`dashboardToken`), or else one the stack
 * generates once with @pulumi/random. A RandomBytes keeps its value in the stack's state and
 * makes a new one only when its inputs change; its inputs here are fixed (a length, no
 * keepers), so every later `pulumi up` keeps the same token. Its hex output is marked secret by
 * the provider (additionalSecretOutputs) and wrapped again here, so it is encrypted in the state
 * and shown only with `pulumi stack output dashboardToken --show-secrets`.
 */
export function dashboardTokenOf(configured: pulumi.Output<string> | null): pulumi.Output<string> {
  if (configured) return configured;
  const generated = new RandomBytes('dashboard-token', { length: GENERATED_TOKEN_BYTES });
  return pulumi.secret(generated.hex);
}
