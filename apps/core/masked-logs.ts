import type { ContainerRuntime, FollowableLogs, LogChunk } from './domain/container-runtime.port.js';
import type { SecretMasker } from './domain/secret-masker.js';

/** How the local runtimes and ACI mark a log of which only the end is kept (log-tail.ts). */
const TRUNCATED = '[earlier output truncated]\n';

/**
 * A runtime whose `logs` are masked: everything that reads a container's logs to store them
 * (the reaper: logs, output, failure reason) or to serve them (the dashboard, live) goes through
 * this one boundary, so a secret a program prints is never written to the store nor sent out.
 * `live` masks the start of a secret at the end too, since the rest may not be written yet.
 * Every other member is the runtime's own.
 */
export function withMaskedLogs<T extends Pick<ContainerRuntime, 'logs'>>(runtime: T, masker: SecretMasker, { live }: { live: boolean }): T {
  if (masker.secrets.length === 0) return runtime;
  const logs = async (name: string): Promise<string | null> => {
    const raw = await runtime.logs(name);
    if (raw === null) return null;
    if (raw.startsWith(TRUNCATED)) return TRUNCATED + masker.mask(raw.slice(TRUNCATED.length), { cutStart: true, cutEnd: live });
    return masker.mask(raw, { cutEnd: live });
  };
  // A live follow from an offset: the chunk may begin or end inside a secret, so both cut ends are masked.
  const follow = (runtime as Partial<FollowableLogs>).logsFrom;
  const logsFrom = follow
    ? async (name: string, from: number): Promise<LogChunk | null> => {
        const chunk = await follow.call(runtime, name, from);
        return chunk && { ...chunk, text: masker.mask(chunk.text, { cutStart: from > 0, cutEnd: true }) };
      }
    : undefined;
  return new Proxy(runtime, {
    get(target, property) {
      if (property === 'logs') return logs;
      if (property === 'logsFrom' && logsFrom) return logsFrom;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
