import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix } from 'node:path';

/**
 * Builds an image's file tree the way `docker build` would, without a Docker engine: every
 * instruction is read from the Dockerfile itself, so a changed Dockerfile is what gets tested.
 * Each stage's filesystem is a folder; RUN runs its shell command in the stage's WORKDIR with
 * absolute paths mapped into that folder, under the Node given (the base images' runtime).
 * Only the instructions these Dockerfiles use are understood; any other one fails the build,
 * so a new instruction is noticed rather than skipped.
 */
export interface BuiltImage {
  /** The final stage's WORKDIR, as a folder: exactly what the image's COPY put there. */
  appDir: string;
  env: Record<string, string>;
  user: string | null;
  cmd: string[];
  /** The base image of each stage (FROM), after ARG defaults. */
  bases: string[];
}

interface Instruction {
  op: string;
  args: string;
}

export function parseDockerfile(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return logical
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
      return { op: op!.toUpperCase(), args: args! };
    });
}

interface Stage {
  name: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string | null;
  cmd: string[];
}

/** Builds `dockerfile` with `context` as the build context, into folders below `scratch`. */
export function buildLikeDocker(dockerfile: string, context: string, scratch: string, node: string): BuiltImage {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  const bases: string[] = [];
  const expand = (text: string) => text.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => args[name] ?? whole);
  let stage: Stage | null = null;
  const inStage = (op: string): Stage => {
    if (!stage) throw new Error(`${basename(dockerfile)}: ${op} before FROM`);
    return stage;
  };
  const inRoot = (s: Stage, path: string) => join(s.root, isAbsolute(path) ? path : posix.join(s.workdir, path));

  for (const { op, args: raw } of parseDockerfile(readFileSync(dockerfile, 'utf8'))) {
    switch (op) {
      case 'ARG': {
        const [name, value = ''] = raw.split('=');
        if (!(name! in args)) args[name!] = value;
        break;
      }
      case 'FROM': {
        const [image, , name] = expand(raw).split(/\s+/);
        bases.push(image!);
        stage = { name: name ?? String(stages.length), root: join(scratch, `stage-${stages.length}`), workdir: '/', env: {}, user: null, cmd: [] };
        mkdirSync(stage.root, { recursive: true });
        stages.push(stage);
        break;
      }
      case 'WORKDIR': {
        const s = inStage(op);
        s.workdir = posix.resolve(s.workdir, raw);
        mkdirSync(inRoot(s, s.workdir), { recursive: true });
        break;
      }
      case 'ENV': {
        const s = inStage(op);
        for (const pair of raw.split(/\s+/)) {
          const [name, value = ''] = pair.split('=');
          s.env[name!] = value;
        }
        break;
      }
      case 'COPY': {
        const s = inStage(op);
        const words = raw.split(/\s+/);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--'));
        const target = paths.pop()!;
        const source = from ? stages.find((candidate) => candidate.name === from) : null;
        if (from && !source) throw new Error(`${basename(dockerfile)}: COPY --from=${from}: no such stage`);
        for (const path of paths) {
          const src = source ? inRoot(source, path) : join(context, path);
          const isDir = statSync(src).isDirectory();
          // Docker copies a directory's contents; a file into a folder keeps its name.
          const dest = isDir || !target.endsWith('/') ? inRoot(s, target) : join(inRoot(s, target), basename(path));
          mkdirSync(isDir ? dest : dirname(dest), { recursive: true });
          cpSync(src, dest, { recursive: true });
        }
        break;
      }
      case 'RUN': {
        const s = inStage(op);
        // Absolute paths in the command are paths inside the stage's filesystem.
        const command = expand(raw).replace(/(^|\s)(\/[\w./-]+)/g, (_all, space: string, path: string) => `${space}${join(s.root, path)}`);
        execFileSync('sh', ['-c', command], {
          cwd: inRoot(s, s.workdir),
          // A build step reaches the registry as `docker build` on this machine would: with the
          // machine's own trust (a proxy's CA here), never anything the image itself ships.
          env: { PATH: `${dirname(node)}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '/root', ...buildTrust(), ...s.env },
          stdio: 'pipe',
          timeout: 300_000,
        });
        break;
      }
      case 'USER':
        inStage(op).user = raw;
        break;
      case 'EXPOSE':
        break;
      case 'CMD':
        inStage(op).cmd = JSON.parse(raw) as string[];
        break;
      default:
        throw new Error(`${basename(dockerfile)}: ${op} is not understood by this build; teach tests/artifacts/dockerfile-build.ts`);
    }
  }
  const last = stages[stages.length - 1];
  if (!last) throw new Error(`${basename(dockerfile)}: no FROM`);
  return { appDir: inRoot(last, last.workdir), env: last.env, user: last.user, cmd: last.cmd, bases };
}

/** The CA settings of the machine that builds, where it has them (npm reads NODE_EXTRA_CA_CERTS through Node). */
function buildTrust(): Record<string, string> {
  const names = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR'];
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
}
