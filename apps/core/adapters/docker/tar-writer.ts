/**
 * The tar headers of a build context: POSIX ustar, with a pax extended header before any entry
 * whose name or link target does not fit ustar's fields (100 bytes, or 155 + 100 split at a
 * `/`), as the Engine reads with Go's archive/tar. Owner and group are always 0: the context's
 * owner on this machine means nothing in an image (COPY --chown sets it there).
 * https://pubs.opengroup.org/onlinepubs/9799919799/utilities/pax.html#tag_20_94_13
 */
export type TarEntryType = 'file' | 'directory' | 'symlink';

export interface TarEntryHeader {
  /** Relative, `/`-separated; a directory's without its trailing `/`. */
  path: string;
  type: TarEntryType;
  /** Permission bits (with setuid, setgid and sticky). */
  mode: number;
  size: number;
  mtimeSeconds: number;
  /** A symlink's target. */
  linkTarget?: string;
}

const BLOCK = 512;
const TYPE_FLAG: Record<TarEntryType, string> = { file: '0', directory: '5', symlink: '2' };
// ustar's size field holds 11 octal digits; a bigger file would need a pax `size` record, and
// no build context of this project comes near 8 GiB.
const MAX_SIZE = 8 ** 11 - 1;

/** The header blocks that go before an entry's data. */
export function tarHeader(entry: TarEntryHeader): Buffer {
  if (entry.size > MAX_SIZE) throw new Error(`${entry.path} is larger than 8 GiB, more than this tar writer writes`);
  const name = entry.type === 'directory' ? `${entry.path}/` : entry.path;
  const linkTarget = entry.linkTarget ?? '';
  const split = splitUstarName(name);
  const pax: Record<string, string> = {};
  if (!split) pax.path = name;
  if (linkTarget.length > 100 || !isAscii(linkTarget)) pax.linkpath = linkTarget;
  const blocks: Buffer[] = [];
  if (Object.keys(pax).length > 0) {
    const records = Buffer.from(Object.entries(pax).map(([key, value]) => paxRecord(key, value)).join(''));
    blocks.push(ustarBlock({ name: 'PaxHeaders/entry', prefix: '', type: 'x', size: records.length, mode: 0o644, mtime: entry.mtimeSeconds, link: '' }));
    blocks.push(padded(records));
  }
  blocks.push(
    ustarBlock({
      name: split?.name ?? name.slice(-100),
      prefix: split?.prefix ?? '',
      type: TYPE_FLAG[entry.type],
      size: entry.type === 'file' ? entry.size : 0,
      mode: entry.mode,
      mtime: entry.mtimeSeconds,
      link: linkTarget.slice(0, 100),
    }),
  );
  return Buffer.concat(blocks);
}

/** Zeros that bring a file's data to a whole block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The end of an archive: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

/** ustar's name (100 bytes) and prefix (155 bytes), split at a `/`; null when it cannot be. */
function splitUstarName(name: string): { name: string; prefix: string } | null {
  if (!isAscii(name)) return null;
  if (name.length <= 100) return { name, prefix: '' };
  for (let cut = name.indexOf('/'); cut >= 0; cut = name.indexOf('/', cut + 1)) {
    if (cut <= 155 && name.length - cut - 1 <= 100 && cut < name.length - 1) return { prefix: name.slice(0, cut), name: name.slice(cut + 1) };
  }
  return null;
}

/** `<length> <key>=<value>\n`, where the length counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyBytes = Buffer.byteLength(body);
  let length = bodyBytes + String(bodyBytes).length;
  if (String(length).length + bodyBytes !== length) length = bodyBytes + String(length).length;
  return `${length}${body}`;
}

interface UstarFields {
  name: string;
  prefix: string;
  type: string;
  size: number;
  mode: number;
  mtime: number;
  link: string;
}

function ustarBlock(fields: UstarFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, 100, 'utf8');
  writeOctal(block, 100, 8, fields.mode & 0o7777);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, Math.max(0, Math.floor(fields.mtime)));
  block.fill(' ', 148, 156);
  block.write(fields.type, 156, 1, 'ascii');
  block.write(fields.link, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'ascii');
  block.write('root', 265, 32, 'ascii');
  block.write('root', 297, 32, 'ascii');
  block.write(fields.prefix, 345, 155, 'utf8');
  let checksum = 0;
  for (const byte of block) checksum += byte;
  block.write(`${checksum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}

function padded(data: Buffer): Buffer {
  return Buffer.concat([data, tarPadding(data.length)]);
}

function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}
