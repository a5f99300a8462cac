import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StopReason } from '../domain/container-runtime.port.js';

const REASONS: readonly StopReason[] = ['timeout', 'shutdown', 'cancel'];

/**
 * Why the stack stopped each container, a file each (`.stop`) in a local runtime's folder,
 * written before the stop is sent: a stack that dies mid-stop, or whose last pass never saw the
 * end, still knows at its next start that the end was its own stop and not the program's.
 */
export class StopReasons {
  constructor(private readonly dir: string) {}

  write(name: string, reason: StopReason): void {
    writeFileSync(this.path(name), reason);
  }

  read(name: string): StopReason | null {
    const path = this.path(name);
    if (!existsSync(path)) return null;
    const text = readFileSync(path, 'utf8');
    return REASONS.find((reason) => reason === text) ?? null;
  }

  remove(name: string): void {
    rmSync(this.path(name), { force: true });
  }

  private path(name: string): string {
    return join(this.dir, `${name}.stop`);
  }
}
