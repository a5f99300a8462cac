import { isExitCodePattern, type RetryPolicy } from './retry-policy.js';
import { WORKER_VARIABLES } from './worker-contract.js';

/**
 * What a task runs: a kind names the program (locally a command, on Azure an image), the
 * resources it gets, how long it may run, when it is retried, and its own settings. The
 * `default` kind is the built-in worker; every other kind is the user's own program.
 */
export interface TaskKind {
  name: string;
  /** Local stack, as a process: the program and its arguments, run from the repository's folder. */
  command: string[] | null;
  /** Azure, and the local stack in containers: the image, by digest where it is known. */
  image: string | null;
  /** Azure: a private registry other than the stack's own (whose pulls use its identity). */
  registry: RegistryCredentials | null;
  cpu: number;
  memoryGb: number;
  timeoutSeconds: number;
  /**
   * How long its container may take to start (ACI: refusals for capacity or quota, a pull
   * refused while a grant propagates, provisioning failures with a platform cause): that
   * attempt is put off and tried again until then, never counted against `maxAttempts`.
   * Absent: the kind's timeout.
   */
  startWaitSeconds?: number;
  retry: RetryPolicy;
  /** Extra environment values, shown as they are. */
  env: Record<string, string>;
  /** Extra environment values kept secret (ACI secure values; Pulumi secrets). */
  secretEnv: Record<string, string>;
  /**
   * It writes its own states, so it is given DATABASE_URI. That string carries the account's
   * key, full control of the database: a kind has it only when it asks. Every other kind's
   * state is read from its container: running, exit code, output, log.
   */
  store: boolean;
}

export interface RegistryCredentials {
  server: string;
  username: string;
  password: string;
}

export const DEFAULT_KIND = 'default';
// Also a Docker repository name and an ACI tag value: no hyphen at the end.
export const KIND_NAME_PATTERN = /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

// ACI's limits for one Linux container group in most regions (4 vCPU, 16 GB):
// https://learn.microsoft.com/azure/container-instances/container-instances-resource-and-quota-limits
export const ACI_LINUX_LIMITS = { cpu: { min: 0.1, max: 4 }, memoryGb: { min: 0.1, max: 16 } } as const;
export const TIMEOUT_LIMITS = { min: 1, max: 86_400 } as const;
export const MAX_ATTEMPTS_LIMITS = { min: 1, max: 20 } as const;

/**
 * Which program fields a source of kinds declares: on Azure an image; in Pulumi an image or a
 * folder to build one from; in the local stack's file a command (run as a process), and an
 * image or a folder to build one from (run in a container, CONTAINERS=docker), either or both.
 */
export type KindProgram = 'local' | 'image' | 'image-or-build';

export interface KindDefaults {
  cpu: number;
  memoryGb: number;
  timeoutSeconds: number;
  retry: RetryPolicy;
}

/** A kind as declared, with the `build` a Pulumi stack resolves to an image. */
export interface DeclaredKind extends TaskKind {
  build: { context: string; dockerfile: string | null } | null;
}

const COMMON_KEYS = ['cpu', 'memoryGb', 'timeoutSeconds', 'startWaitSeconds', 'maxAttempts', 'retryExitCodes', 'env', 'secretEnv', 'store'];
const PROGRAM_KEYS: Record<KindProgram, string[]> = {
  local: ['command', 'image', 'build'],
  image: ['image', 'registry'],
  'image-or-build': ['image', 'build', 'registry'],
};
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads the kinds a file or a setting declares, `{ "<name>": { ...kind } }`. Every problem is
 * collected, each naming the kind and the key, and returned together: nothing half-read is used.
 */
export function parseKinds(raw: unknown, source: string, program: KindProgram, defaults: KindDefaults): { kinds: DeclaredKind[]; problems: string[] } {
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { kinds: [], problems: [`${source} must be an object of kinds, { "<name>": { ... } }`] };
  }
  const kinds: DeclaredKind[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const where = `${source}: kind "${name}"`;
    if (!KIND_NAME_PATTERN.test(name)) {
      problems.push(`${where}: a kind's name is a lowercase letter, then up to 31 lowercase letters, digits or hyphens, not ending in a hyphen`);
      continue;
    }
    if (name === DEFAULT_KIND) {
      problems.push(`${where}: "${DEFAULT_KIND}" is the built-in worker's kind and cannot be declared`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${where} must be an object`);
      continue;
    }
    kinds.push(readKind(name, value as Record<string, unknown>, where, program, defaults, problems));
  }
  return { kinds, problems };
}

function readKind(name: string, fields: Record<string, unknown>, where: string, program: KindProgram, defaults: KindDefaults, problems: string[]): DeclaredKind {
  const known = [...COMMON_KEYS, ...PROGRAM_KEYS[program]];
  for (const key of Object.keys(fields)) {
    if (!known.includes(key)) {
      const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
      problems.push(`${where}: unknown key "${key}"${near ? ` (did you mean "${near}"?)` : ` (known: ${known.join(', ')})`}`);
    }
  }
  const problem = (key: string, text: string) => problems.push(`${where}: ${key} ${text}`);
  const number = (key: string, fallback: number, { min, max }: { min: number; max: number }, integer = false) => {
    const value = fields[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      problem(key, `must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (got ${JSON.stringify(value)})`);
      return fallback;
    }
    return value;
  };
  const text = (key: string): string | null => {
    const value = fields[key];
    if (value === undefined) return null;
    if (typeof value !== 'string' || value.trim() === '') {
      problem(key, `must be a non-empty string (got ${JSON.stringify(value)})`);
      return null;
    }
    return value;
  };
  const environment = (key: string): Record<string, string> => {
    const value = fields[key];
    if (value === undefined) return {};
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problem(key, 'must be an object of names and string values');
      return {};
    }
    const env: Record<string, string> = {};
    for (const [variable, setting] of Object.entries(value)) {
      if (!ENV_NAME.test(variable)) problem(key, `has "${variable}", which is not an environment variable name`);
      else if ((WORKER_VARIABLES as readonly string[]).includes(variable)) problem(key, `may not set ${variable}: the platform sets it`);
      else if (typeof setting !== 'string') problem(key, `.${variable} must be a string (got ${JSON.stringify(setting)})`);
      else env[variable] = setting;
    }
    return env;
  };

  let command: string[] | null = null;
  if (program === 'local' && fields.command !== undefined) {
    const value = fields.command;
    if (!Array.isArray(value) || value.length === 0 || value.some((part) => typeof part !== 'string' || part === '')) {
      problem('command', 'must be a non-empty array of strings: the program, then its arguments (the message reaches it as MESSAGE, never as a command line)');
    } else {
      command = value as string[];
    }
  }
  const image = text('image');
  let build: DeclaredKind['build'] = null;
  if (program !== 'image' && fields.build !== undefined) {
    const value = fields.build;
    if (typeof value === 'string' && value.trim() !== '') build = { context: value, dockerfile: null };
    else if (typeof value === 'object' && value !== null && typeof (value as { context?: unknown }).context === 'string') {
      const { context, dockerfile } = value as { context: string; dockerfile?: unknown };
      build = { context, dockerfile: typeof dockerfile === 'string' ? dockerfile : null };
    } else problem('build', 'must be a folder with a Dockerfile, or { "context": "<folder>", "dockerfile": "<path>" }');
  }
  if (program === 'image' && !image) problem('image', 'is required: the image to run');
  if (program === 'image-or-build' && !image === !build) problem('image', 'or build is required, one of the two: an image to run, or a folder with a Dockerfile to build it from');
  if (program === 'local' && image && build) problem('image', 'and build are two ways to give the image: keep one');
  if (program === 'local' && fields.command === undefined && !image && !build) {
    problem('command', 'is required, or an image: a command runs as a process (npm start), an image or a folder to build one from runs in a container (CONTAINERS=docker)');
  }

  let registry: RegistryCredentials | null = null;
  if (program !== 'local' && fields.registry !== undefined) {
    const value = fields.registry as Record<string, unknown> | null;
    const ok = typeof value === 'object' && value !== null && ['server', 'username', 'password'].every((k) => typeof value[k] === 'string' && value[k] !== '');
    if (ok) registry = { server: value.server as string, username: value.username as string, password: value.password as string };
    else problem('registry', 'must be { "server", "username", "password" }, each a non-empty string');
  }

  const retryExitCodes = fields.retryExitCodes;
  let retryOnExitCodes = defaults.retry.retryOnExitCodes;
  if (retryExitCodes !== undefined) {
    if (!Array.isArray(retryExitCodes) || retryExitCodes.some((code) => typeof code !== 'string' || !isExitCodePattern(code))) {
      problem('retryExitCodes', `must be an array of exit codes as strings, such as "3" or "10*" (got ${JSON.stringify(retryExitCodes)})`);
    } else {
      retryOnExitCodes = retryExitCodes as string[];
    }
  }
  const store = fields.store ?? false;
  if (typeof store !== 'boolean') problem('store', `must be true or false (got ${JSON.stringify(store)})`);

  return {
    name,
    command,
    image,
    build,
    registry,
    cpu: number('cpu', defaults.cpu, ACI_LINUX_LIMITS.cpu),
    memoryGb: number('memoryGb', defaults.memoryGb, ACI_LINUX_LIMITS.memoryGb),
    timeoutSeconds: number('timeoutSeconds', defaults.timeoutSeconds, TIMEOUT_LIMITS),
    ...(fields.startWaitSeconds === undefined ? {} : { startWaitSeconds: number('startWaitSeconds', defaults.timeoutSeconds, TIMEOUT_LIMITS) }),
    retry: { maxAttempts: number('maxAttempts', defaults.retry.maxAttempts, MAX_ATTEMPTS_LIMITS, true), retryOnExitCodes },
    env: environment('env'),
    secretEnv: environment('secretEnv'),
    store: store === true,
  };
}

/** How long a kind's attempt may wait for its container to start (its `startWaitSeconds`, else its timeout). */
export function startWaitSecondsOf(kind: Pick<TaskKind, 'startWaitSeconds' | 'timeoutSeconds'>): number {
  return kind.startWaitSeconds ?? kind.timeoutSeconds;
}

/** The kinds a stack runs: the built-in worker's, and the user's own. */
export class KindCatalog {
  private readonly byName: Map<string, TaskKind>;

  constructor(
    readonly defaultKind: TaskKind,
    others: TaskKind[] = [],
  ) {
    this.byName = new Map([defaultKind, ...others].map((kind) => [kind.name, kind]));
  }

  /** Undefined for a kind the stack does not declare (one removed since a job named it). */
  get(name: string): TaskKind | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
