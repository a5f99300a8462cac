/**
 * One answer of the engine's stats endpoint (`GET /containers/{id}/stats`), the fields used:
 * https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Container/operation/ContainerStats
 */
export interface DockerStats {
  read: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

/** A container's cumulative CPU time and its memory in use at one moment. */
export interface UsageReading {
  at: number;
  cpuNanoseconds: number;
  memoryBytes: number;
}

/**
 * What the answer says, or null when it says nothing (a container that is not running
 * answers with zeros and no memory). Memory is as `docker stats` shows it: usage without
 * the page cache the kernel may reclaim (cgroup v2 `inactive_file`, v1 `total_inactive_file`).
 */
export function readUsage(stats: DockerStats): UsageReading | null {
  const usage = stats.memory_stats?.usage;
  const cpu = stats.cpu_stats?.cpu_usage?.total_usage;
  const at = Date.parse(stats.read);
  if (usage === undefined || cpu === undefined || Number.isNaN(at) || at <= 0) return null;
  return { at, cpuNanoseconds: cpu, memoryBytes: memoryInUse(usage, stats.memory_stats?.stats ?? {}) };
}

/** As the Docker CLI computes it: cgroup v1 names the whole hierarchy's figure `total_inactive_file`, v2 has only `inactive_file`. */
function memoryInUse(usage: number, stat: Record<string, number>): number {
  const v1 = stat.total_inactive_file;
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = stat.inactive_file;
  if (v2 !== undefined && v2 < usage) return usage - v2;
  return usage;
}

/** CPU in millicores between two readings, the unit Azure Monitor reports for ACI. */
export function millicoresBetween(before: UsageReading, after: UsageReading): number {
  const elapsedNs = Math.max((after.at - before.at) * 1e6, 1e6);
  return Math.max(0, Math.round(((after.cpuNanoseconds - before.cpuNanoseconds) / elapsedNs) * 1000));
}
