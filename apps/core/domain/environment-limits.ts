/**
 * What one container's environment may hold. Every runtime here starts a Linux process
 * (a child process, a Docker container, an ACI container group, which runs Linux containers), so
 * the kernel's limits on execve apply to all of them:
 * - one `NAME=value` string with its NUL may have at most MAX_ARG_STRLEN = 32 pages = 131,072
 *   bytes (include/uapi/linux/binfmts.h; execve(2), "Limits on size of arguments and
 *   environment"), or execve fails with E2BIG;
 * - all argument and environment strings with their pointers may have at most a quarter of the
 *   stack limit (ARG_MAX: 2 MiB under the usual 8 MiB stack; `getconf ARG_MAX`).
 * ACI documents no limit of its own on environment values: the REST spec's EnvironmentVariable
 * (Azure/azure-rest-api-specs, Microsoft.ContainerInstance stable/2023-05-01 containerInstance.json)
 * has no maxLength, and
 * https://learn.microsoft.com/azure/container-instances/container-instances-environment-variables
 * names none. The kernel's limits apply inside its Linux containers, so these are the bounds there too.
 */
export const MAX_ARG_STRLEN = 131_072;
export const ARG_MAX = 2_097_152;
/** Kept free for the command line (the process runtime's supervisor script and the kind's command). */
const ARGUMENT_HEADROOM = 131_072;
/** What the environment as a whole may take: ARG_MAX less room for the arguments. */
export const ENVIRONMENT_BUDGET_BYTES = ARG_MAX - ARGUMENT_HEADROOM;
const POINTER_BYTES = 8;

/** The bytes execve counts for one variable: `NAME=value` in UTF-8 and its NUL. */
export function variableBytes(name: string, value: string): number {
  return Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 1;
}

/** The bytes execve counts for a whole environment, pointers included. */
export function environmentBytes(env: Record<string, string>): number {
  let total = POINTER_BYTES; // the list's closing null pointer
  for (const [name, value] of Object.entries(env)) total += variableBytes(name, value) + POINTER_BYTES;
  return total;
}

/** Why `env` cannot start a process, or null when it fits. */
export function environmentProblem(env: Record<string, string>, budget = ENVIRONMENT_BUDGET_BYTES): string | null {
  for (const [name, value] of Object.entries(env)) {
    const bytes = variableBytes(name, value);
    if (bytes > MAX_ARG_STRLEN) {
      return `${name} would be ${bytes} bytes in the container's environment (with its name and a NUL); Linux allows one variable at most ${MAX_ARG_STRLEN} bytes (MAX_ARG_STRLEN)`;
    }
  }
  const total = environmentBytes(env);
  if (total > budget) {
    return `the container's environment would be ${total} bytes; at most ${budget} fit beside its command line (Linux ARG_MAX ${ARG_MAX})`;
  }
  return null;
}
