import { chmodSync, existsSync, statSync } from 'node:fs';

/** Folders of the data, and files in them: the owner's only (README: "A private store"). */
export const PRIVATE_FOLDER_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Takes group and other access away from `path` when it is ours and has any: the mode a file is
 * created with is cut by the umask but never widened, so a umask of 000 would leave the store
 * world-readable. A file of another user, or one gone, is left as it is.
 */
export function makePrivate(path: string, mode = PRIVATE_FILE_MODE): void {
  try {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if ((stat.mode & 0o077) === 0 || stat.uid !== process.getuid?.()) return;
    chmodSync(path, mode);
  } catch {
    // Gone between the look and the change, or a file system without modes: nothing to keep private.
  }
}

/** Whether users other than the owner may read or enter `path`, and its mode to name in a message. */
export function openToOthers(path: string): { open: boolean; mode: string } {
  const mode = statSync(path).mode & 0o777;
  return { open: (mode & 0o077) !== 0, mode: mode.toString(8).padStart(4, '0') };
}
