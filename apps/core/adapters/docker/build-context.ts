import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { hasExceptionUnder, isIgnored, keepBuildFiles, parseDockerignore } from './dockerignore.js';
import { tarEnd, tarHeader, tarPadding, type TarEntryHeader } from './tar-writer.js';

/** One path of a build context, found on disk. */
export interface ContextEntry extends TarEntryHeader {
  absolutePath: string;
}

/** What `docker build <folder> -f <dockerfile>` would send, listed but not yet read. */
export interface BuildContext {
  folder: string;
  /** Relative to the folder, `/`-separated. */
  dockerfile: string;
  entries: ContextEntry[];
}

/**
 * Lists a folder as the Docker CLI sends it: its `.dockerignore` applied (the CLI's walk: an
 * ignored directory is skipped unless an exception names something inside it), the Dockerfile
 * and the `.dockerignore` always kept, names in byte order. Symlinks are sent as links, not
 * followed; sockets, pipes and devices are not sent (nothing a build can COPY).
 */
export function readBuildContext(folder: string, dockerfile: string): BuildContext {
  const relativeDockerfile = posix.normalize(dockerfile.replaceAll('\\', '/')).replace(/^\/+/, '');
  if (relativeDockerfile.startsWith('../') || !existsSync(join(folder, relativeDockerfile))) {
    throw new Error(`the Dockerfile ${dockerfile} is not in the build context ${folder}`);
  }
  const ignoreFile = join(folder, '.dockerignore');
  const rules = keepBuildFiles(existsSync(ignoreFile) ? parseDockerignore(readFileSync(ignoreFile, 'utf8')) : [], relativeDockerfile);
  const entries: ContextEntry[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort(byBytes)) {
      const path = prefix === '' ? name : `${prefix}/${name}`;
      const absolutePath = join(dir, name);
      const stats = lstatSync(absolutePath);
      const ignored = isIgnored(rules, path);
      if (stats.isDirectory()) {
        if (!ignored) entries.push(entryOf(path, absolutePath, 'directory', stats));
        if (!ignored || hasExceptionUnder(rules, path)) walk(absolutePath, path);
      } else if (!ignored && stats.isFile()) entries.push(entryOf(path, absolutePath, 'file', stats));
      else if (!ignored && stats.isSymbolicLink()) entries.push({ ...entryOf(path, absolutePath, 'symlink', stats), linkTarget: readlinkSync(absolutePath) });
    }
  };
  walk(folder, '');
  return { folder, dockerfile: relativeDockerfile, entries };
}

/**
 * A digest of what the context holds: each entry's path, kind, mode, link target and
 * content, not its mtime (a checkout or a `touch` changes no image). Reads every file, so it
 * costs what reading the context costs: a few milliseconds for this repository's.
 */
export function digestBuildContext(context: BuildContext): string {
  const digest = createHash('sha256');
  const chunk = Buffer.alloc(1 << 20);
  for (const entry of context.entries) {
    digest.update(`${entry.type} ${entry.mode.toString(8)} ${entry.path}\0${entry.linkTarget ?? ''}\0${entry.size}\0`);
    if (entry.type !== 'file') continue;
    const fd = openSync(entry.absolutePath, 'r');
    try {
      for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) digest.update(chunk.subarray(0, read));
    } finally {
      closeSync(fd);
    }
  }
  return digest.digest('hex');
}

/** The context as a tar stream, read from disk as it is sent. */
export function buildContextTar(context: BuildContext): Readable {
  return Readable.from(tarChunks(context.entries), { objectMode: false });
}

async function* tarChunks(entries: ContextEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield tarHeader(entry);
    if (entry.type !== 'file' || entry.size === 0) continue;
    let sent = 0;
    for await (const data of createReadStream(entry.absolutePath, { start: 0, end: entry.size - 1 })) {
      sent += (data as Buffer).length;
      yield data as Buffer;
    }
    // The header already promised a size: a file cut short since the walk would shift every
    // entry after it.
    if (sent !== entry.size) throw new Error(`${entry.path} changed while the build context was being sent`);
    yield tarPadding(entry.size);
  }
  yield tarEnd();
}

function entryOf(path: string, absolutePath: string, type: ContextEntry['type'], stats: Stats): ContextEntry {
  return { path, absolutePath, type, mode: stats.mode & 0o7777, size: type === 'file' ? stats.size : 0, mtimeSeconds: Math.floor(stats.mtimeMs / 1000) };
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
