/**
 * Prometheus metrics of the pipelines (prom-client), in the process that runs them. The ops
 * server (jobs/) exposes this registry at /metrics, adding gauges read from shared state
 * (lag, queue depth, circuit state) when scraped.
 */
import client from 'prom-client';

export const registry = new client.Registry();

const streamLabels = ['source', 'stream'] as const;

export const recordsRead = new client.Counter({ name: 'junction_records_read_total', help: 'records read from sources', labelNames: streamLabels, registers: [registry] });
export const recordsWritten = new client.Counter({ name: 'junction_records_written_total', help: 'records inserted or updated in the unified view', labelNames: streamLabels, registers: [registry] });
export const recordsFailed = new client.Counter({ name: 'junction_records_failed_total', help: 'records dead-lettered', labelNames: streamLabels, registers: [registry] });
export const batchDuration = new client.Histogram({
  name: 'junction_batch_duration_seconds',
  help: 'map + resolve + load + commit of one batch',
  labelNames: streamLabels,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  registers: [registry],
});
