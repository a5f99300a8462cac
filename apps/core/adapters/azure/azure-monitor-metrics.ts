import type { MonitorClient } from '@azure/arm-monitor';
import type { ContainerMetrics } from '../../domain/container-runtime.port.js';
import type { MetricPoint, MetricSeries } from '../../domain/metric-series.js';

export interface AzureMonitorMetricsOptions {
  subscriptionId: string;
  resourceGroup: string;
  /** How far back to ask for; a task's group lives at most TASK_TIMEOUT_SECONDS. */
  lookbackMs?: number;
  /** The grain asked for: ACI's metrics are published per minute (tests use a shorter one). */
  grainSeconds?: number;
  now?: () => number;
}

/**
 * CpuUsage (millicores) and MemoryUsage (bytes) of a container group from Azure Monitor,
 * through @azure/arm-monitor: the same ARM endpoint and credential as the ACI client, so
 * one identity and one fake serve both. ACI publishes these at a one-minute grain, minutes
 * after the fact, so a task of a few seconds has one point, and it comes late.
 */
export class AzureMonitorMetrics implements ContainerMetrics {
  constructor(
    private readonly client: MonitorClient,
    private readonly options: AzureMonitorMetricsOptions,
  ) {}

  resourceUri(name: string): string {
    const { subscriptionId, resourceGroup } = this.options;
    return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerInstance/containerGroups/${name}`;
  }

  async metrics(name: string): Promise<MetricSeries | null> {
    const now = (this.options.now ?? Date.now)();
    const from = new Date(now - (this.options.lookbackMs ?? 6 * 3600_000)).toISOString();
    let response;
    try {
      // The SDK joins `{endpoint}/{resourceUri}`: a leading slash would make the path start with //.
      response = await this.client.metrics.list(this.resourceUri(name).slice(1), {
        metricnames: 'CpuUsage,MemoryUsage',
        timespan: `${from}/${new Date(now).toISOString()}`,
        interval: this.grainSeconds() % 60 === 0 ? `PT${this.grainSeconds() / 60}M` : `PT${this.grainSeconds()}S`,
        aggregation: 'Average',
        // Well under the Function's functionTimeout: a hung call must not hold the invocation.
        abortSignal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return null;
      throw error;
    }
    const series = (metric: string): MetricPoint[] =>
      (response.value.find((m) => m.name.value === metric)?.timeseries ?? [])
        .flatMap((element) => element.data ?? [])
        .filter((point) => point.average !== undefined)
        .map((point) => ({ t: new Date(point.timeStamp).toISOString(), v: point.average! }));
    return { cpu: series('CpuUsage'), memory: series('MemoryUsage') };
  }

  /** Settled once a point covers the grain in which the container finished: Monitor reports it last. */
  settled(series: MetricSeries, finishedAt: Date): boolean {
    const grainMs = this.grainSeconds() * 1000;
    const lastGrain = Math.floor(finishedAt.getTime() / grainMs) * grainMs;
    return [...series.cpu, ...series.memory].some((point) => Date.parse(point.t) >= lastGrain);
  }

  private grainSeconds(): number {
    return this.options.grainSeconds ?? 60;
  }
}
