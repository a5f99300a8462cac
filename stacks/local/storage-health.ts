import { accessSync, closeSync, constants, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../apps/core/domain/errors.js';

/** A probe the size of a page or two: a disk with less room than this cannot take a task's record. */
const PROBE_BYTES = 8192;
/** How long one write probe's finding stands: pollers, submits and dispatch share it. */
const FINDING_MS = 1000;

export interface StoragePart {
  /** What the cause names: "the store", "the queue". */
  name: string;
  /** Rejects while the part can't be used (a damaged store: see watchForDamage). */
  ping: () => Promise<void>;
}

/**
 * Whether the local stack's storage can take work: every folder in `folders` takes a small
 * write (a full disk, a read-only DATA_DIR), and every part answers its ping (a store found
 * damaged). A fault is a state, not a crash: /healthz answers 503 naming it, submits are refused
 * with it, and dispatch takes no message while it lasts (so no delivery is burned). It is looked
 * at again at most once a second, so work resumes by itself when the fault clears.
 */
export class StorageHealth {
  private written: { at: number; problem: string | null } | null = null;

  constructor(
    /**
     * `watched`: a folder the runtime watches for its containers' files, where a probe file would
     * wake the stack at every look; it is asked whether it may be written (permissions, a
     * read-only mount) without a write. A full disk shows in the others' write.
     */
    private readonly folders: { setting: string; path: string; watched?: boolean }[],
    private readonly parts: StoragePart[],
  ) {}

  /** Null when everything takes writes; otherwise the cause, for an operator. */
  async fault(): Promise<string | null> {
    // The write probe costs a sync: one a second, shared. A ping is one read and a flag: each time.
    if (!this.written || Date.now() - this.written.at >= FINDING_MS) this.written = { at: Date.now(), problem: this.probeFolders() };
    if (this.written.problem) return this.written.problem;
    for (const part of this.parts) {
      try {
        await part.ping();
      } catch (error) {
        return `${part.name}: ${errorMessage(error)}`;
      }
    }
    return null;
  }

  private probeFolders(): string | null {
    for (const folder of this.folders) {
      const problem = folder.watched ? accessProblem(folder.path) : writeProblem(folder.path);
      if (problem) return `${folder.setting} ${folder.path} ${problem}`;
    }
    return null;
  }
}

/** Writes, syncs and removes a small file in `folder`: null when that works, else why not. */
export function writeProblem(folder: string): string | null {
  const path = join(folder, `.write-check-${process.pid}`);
  let fd: number | null = null;
  try {
    fd = openSync(path, 'w');
    writeSync(fd, Buffer.alloc(PROBE_BYTES));
    // A disk that delays allocation reports ENOSPC only here.
    fsyncSync(fd);
    return null;
  } catch (error) {
    return describeWriteFault(error);
  } finally {
    if (fd !== null) closeSync(fd);
    try {
      rmSync(path, { force: true });
    } catch {
      // A folder made read-only after the write: the next look says so.
    }
  }
}

/** Whether this user may write in `folder`, asked of the kernel without writing: null when so. */
export function accessProblem(folder: string): string | null {
  try {
    accessSync(folder, constants.W_OK);
    return null;
  } catch (error) {
    return describeWriteFault(error);
  }
}

function describeWriteFault(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `is full (${errorMessage(error)}): free some space; work resumes by itself`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `is not writable (${errorMessage(error)}): give this user write access to it; work resumes by itself`;
    default:
      return `cannot be written (${errorMessage(error)})`;
  }
}
