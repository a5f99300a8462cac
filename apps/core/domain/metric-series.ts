/** One sample: an ISO timestamp and its value. */
export interface MetricPoint {
  t: string;
  v: number;
}

/** CPU in millicores and memory in bytes, the units Azure Monitor reports for ACI. */
export interface MetricSeries {
  cpu: MetricPoint[];
  memory: MetricPoint[];
}
