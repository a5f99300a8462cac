import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerSamples } from '../container-samples.js';
import { formatExitStatus, parseExitStatus, type ExitStatus } from './supervisor.js';

/** What is known of a container from the moment it is started: enough to find it again after a restart. */
export interface ContainerRecord {
  name: string;
  jobId: string;
  /** The supervisor's pid; null in the instant between the record and the spawn. */
  pid: number | null;
  /** The supervisor's start in clock ticks after boot (/proc): with the pid, it names one process. */
  startTicks: number | null;
  startedAt: string;
}

/**
 * A container's files in the runtime's folder: its record (`.json`), its output (`.log`), the
 * exit status its supervisor writes (`.exit`), its samples (`.metrics`, a JSON line each) and,
 * when the stack stopped it, why (`.stop`, written by StopReasons).
 * Everything a restart needs is here, so a container outlives the process that started it.
 */
export class ContainerFiles extends ContainerSamples {
  log(name: string): string {
    return join(this.dir, `${name}.log`);
  }

  exit(name: string): string {
    return join(this.dir, `${name}.exit`);
  }

  writeRecord(record: ContainerRecord): void {
    const path = join(this.dir, `${record.name}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(record));
    renameSync(`${path}.tmp`, path);
  }

  records(): ContainerRecord[] {
    return readdirSync(this.dir)
      .filter((file) => file.endsWith('.json'))
      .flatMap((file) => {
        try {
          return [JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as ContainerRecord];
        } catch {
          return []; // a record cut short by a crash mid-write: its container never started
        }
      });
  }

  /**
   * How the program ended, as the supervisor wrote it (process/supervisor.ts reads the line),
   * and when; null while none is written. The status is written in place, its newline last: a
   * file without it (just made, or cut short by a kill) holds no status yet.
   */
  readExit(name: string): (ExitStatus & { at: string }) | null {
    const path = this.exit(name);
    if (!existsSync(path)) return null;
    const status = parseExitStatus(readFileSync(path, 'utf8'));
    return status ? { ...status, at: statSync(path).mtime.toISOString() } : null;
  }

  /** For an end the supervisor could not write itself (it was killed with its container). */
  writeExit(name: string, status: ExitStatus): void {
    writeFileSync(`${this.exit(name)}.tmp`, formatExitStatus(status));
    renameSync(`${this.exit(name)}.tmp`, this.exit(name));
  }

  remove(name: string): void {
    for (const suffix of ['.json', '.log', '.exit', '.metrics', '.stop']) rmSync(join(this.dir, `${name}${suffix}`), { force: true });
  }
}
