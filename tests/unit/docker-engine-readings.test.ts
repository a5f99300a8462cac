import { describe, expect, it } from 'vitest';
import { demultiplexLogs } from '../../apps/core/adapters/docker/docker-log-frames.js';
import { millicoresBetween, readUsage } from '../../apps/core/adapters/docker/docker-stats.js';

const frame = (stream: 1 | 2, text: string) => {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
};

describe("the engine's log frames", () => {
  it('joins stdout and stderr in the order written, however the bytes split', () => {
    const raw = Buffer.concat([frame(1, 'one\n'), frame(2, 'to stderr\n'), frame(1, 'été\n')]);
    expect(demultiplexLogs(raw).toString('utf8')).toBe('one\nto stderr\nété\n');
    // A frame cut short at the end (the stream ended mid-frame) keeps what arrived.
    expect(demultiplexLogs(raw.subarray(0, raw.length - 1)).toString('utf8')).toBe('one\nto stderr\nété');
    expect(demultiplexLogs(Buffer.alloc(0)).length).toBe(0);
  });
});

describe("the engine's stats", () => {
  const stats = (read: string, cpuNs: number, usage: number | undefined, extra: Record<string, number> = {}) => ({
    read,
    cpu_stats: { cpu_usage: { total_usage: cpuNs } },
    memory_stats: usage === undefined ? {} : { usage, stats: extra },
  });

  it('reads memory as `docker stats` shows it: usage without the reclaimable page cache (cgroup v1 and v2)', () => {
    expect(readUsage(stats('2026-11-30T05:00:00.000Z', 5, 100 << 20, { total_inactive_file: 10 << 20 }))!.memoryBytes).toBe(90 << 20);
    expect(readUsage(stats('2026-11-30T05:00:00.000Z', 5, 100 << 20, { inactive_file: 30 << 20 }))!.memoryBytes).toBe(70 << 20);
    // cgroup v1 has both; its own-cgroup `inactive_file` is not the one `docker stats` takes.
    expect(readUsage(stats('2026-11-30T05:00:00.000Z', 5, 100 << 20, { total_inactive_file: 10 << 20, inactive_file: 2 << 20 }))!.memoryBytes).toBe(90 << 20);
    // A reclaimable figure as large as the usage says nothing: the usage is shown.
    expect(readUsage(stats('2026-11-30T05:00:00.000Z', 5, 100 << 20, { inactive_file: 100 << 20 }))!.memoryBytes).toBe(100 << 20);
  });

  it('says nothing for a container that is not running (no memory, zero time)', () => {
    expect(readUsage(stats('2026-11-30T05:00:00.000Z', 0, undefined))).toBeNull();
    expect(readUsage(stats('0001-01-01T00:00:00Z', 0, 1))).toBeNull();
  });

  it('gives CPU in millicores between two readings: half a core for 0.5 s of CPU in a second', () => {
    const before = readUsage(stats('2026-11-30T05:00:00.000Z', 1e9, 1))!;
    const after = readUsage(stats('2026-11-30T05:00:01.000Z', 1.5e9, 1))!;
    expect(millicoresBetween(before, after)).toBe(500);
    expect(millicoresBetween(after, after)).toBe(0);
  });
});
