import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, resolve } from 'node:path';

/**
 * Why a command's program (its first word) cannot run, as the process runtime would run it: its
 * shell looks a bare name up in the PATH the task gets (the kind's own, or else the shell's
 * default, since a task inherits nothing), and a name with a slash from the folder the stack runs
 * in. Null when it would run. Only the first word can be checked in general: for
 * `["sh", "missing.sh"]` it is `sh`, which exists; what `sh` is then given is its business.
 */
export function commandProblem(command: string[], { cwd, env }: { cwd: string; env: Record<string, string> }): string | null {
  const program = command[0]!;
  if (program.includes('/')) {
    const path = isAbsolute(program) ? program : resolve(cwd, program);
    return fileProblem(path);
  }
  const searched = env.PATH ?? shellDefaultPath();
  for (const dir of searched.split(delimiter)) {
    // An empty entry is the current folder, as in any POSIX shell.
    const path = resolve(cwd, dir || '.', program);
    if (fileProblem(path) === null) return null;
  }
  // A shell builtin (`exec`, `:`) runs with no file at all.
  if (isShellBuiltin(program, env)) return null;
  return `"${program}" is not a program on the PATH its tasks get (${searched})`;
}

function fileProblem(path: string): string | null {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return `${path} does not exist`;
  }
  if (stat.isDirectory()) return `${path} is a folder, not a program`;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return `${path} is not executable (chmod +x it, or name its interpreter first: ["sh", "${path}"])`;
  }
  return null;
}

let defaultPath: string | null = null;

/** The PATH a task without one of its own gets: the one its shell sets (dash's built-in default). */
function shellDefaultPath(): string {
  defaultPath ??= spawnSync('/bin/sh', ['-c', 'printf %s "$PATH"'], { env: {}, encoding: 'utf8' }).stdout;
  return defaultPath;
}

function isShellBuiltin(program: string, env: Record<string, string>): boolean {
  const found = spawnSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', program], { env, encoding: 'utf8' });
  return found.status === 0 && !found.stdout.includes('/');
}
