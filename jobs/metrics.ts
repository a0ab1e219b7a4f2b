/**
 * `/metrics`: the pipelines' registry (pipelines/metrics.ts: records read/written/failed,
 * batch durations — counted in the process that runs the jobs) merged with gauges read from
 * shared state when Prometheus scrapes, so any ops server shows the whole hub:
 *
 * | metric | labels | from |
 * |---|---|---|
 * | `junction_stream_lag_seconds` | source, stream | now − checkpoint cursor (when the cursor is a time) |
 * | `junction_stream_last_success_age_seconds` | source, stream | now − end of the last successful run |
 * | `junction_stream_records` | source, stream | `hub.checkpoint.records_total` |
 * | `junction_dead_letters_pending` | source, stream | `hub.dead_letter` not replayed |
 * | `junction_queue_jobs` | state | BullMQ job counts (waiting, active, delayed, prioritized, failed) |
 * | `junction_circuit_state` | source | 0 closed, 1 half-open, 2 open (absent while Redis cannot be read) |
 * | `junction_schedule_paused` | schedule | 1 when paused |
 * | `junction_ops_collect_ok` | part | 1 when that part's figures could be read this scrape |
 */
import client from 'prom-client';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../config/log.js';
import { registry as pipelinesRegistry } from '../pipelines/metrics.js';
import type { SyncJobData, SyncJobResult } from '../pipelines/queue.js';
import { CIRCUIT_GAUGE } from './circuits.js';
import { readPauseStates } from './schedule-state.js';
import { streamsStatus, type SourceStatus } from './streams-status.js';
import { within } from './timeout.js';
import type { JobKeys } from './stream-activity.js';

export interface OpsMetricsDeps {
  config: ResolvedConfig;
  pool: pg.Pool;
  redis: Redis;
  queue: Queue<SyncJobData, SyncJobResult>;
  log: Logger;
  keys?: JobKeys;
}

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

interface Snapshot {
  sources?: SourceStatus[];
  queue?: Record<string, number>;
  paused?: Map<string, { paused: boolean }>;
}

/**
 * The collect-time gauges of one ops server, in a registry of their own; {@link scrape}
 * serves them together with the pipelines' registry.
 */
export function createOpsRegistry(deps: OpsMetricsDeps): client.Registry {
  const { config, pool, redis, queue, log } = deps;
  const own = new client.Registry();
  const streamLabels = ['source', 'stream'] as const;

  // One read of the shared state per scrape, whichever gauge asks first.
  let pending: { at: number; snapshot: Promise<Snapshot> } | undefined;
  const snapshot = (): Promise<Snapshot> => {
    if (pending && Date.now() - pending.at < 1000) return pending.snapshot;
    const part = <T>(name: string, p: Promise<T>) =>
      p.then(
        (v) => (collectOk.set({ part: name }, 1), v),
        (err: unknown) => (collectOk.set({ part: name }, 0), log.warn({ err, part: name }, 'metrics: could not read'), undefined),
      );
    const names = config.schedules.map((s) => s.name);
    const snap = Promise.all([
      part('streams', streamsStatus({ config, pool, redis, keys: deps.keys })),
      // Bounded: with Redis away ioredis would queue the read and the scrape would never end.
      part('queue', within(queue.getJobCounts(...QUEUE_STATES), 2000, 'redis')),
      part('schedules', readPauseStates(pool, names)),
    ]).then(([sources, counts, paused]) => {
      // The circuits are read from Redis with the streams' PostgreSQL figures; Redis away
      // leaves them out (no junction_circuit_state series) but keeps the rest.
      const circuitError = sources?.find((src) => src.circuitError)?.circuitError;
      if (sources) collectOk.set({ part: 'circuits' }, circuitError ? 0 : 1);
      if (circuitError) log.warn({ part: 'circuits', reason: circuitError }, 'metrics: could not read');
      return { sources, queue: counts, paused };
    });
    pending = { at: Date.now(), snapshot: snap };
    return snap;
  };

  const collectOk = new client.Gauge({
    name: 'junction_ops_collect_ok',
    help: '1 when this part of the shared state could be read at this scrape',
    labelNames: ['part'],
    registers: [own],
    // Set while the snapshot is read; waiting for it keeps this scrape's values.
    async collect() {
      await snapshot();
    },
  });

  /** A gauge refilled from the snapshot at every scrape (reset first: no stale series). */
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: client.Gauge<L>, s: Snapshot) => void) =>
    new client.Gauge<L>({
      name,
      help,
      labelNames,
      registers: [own],
      async collect() {
        const s = await snapshot();
        this.reset();
        fill(this, s);
      },
    });

  const eachStream = (s: Snapshot, fn: (labels: { source: string; stream: string }, st: SourceStatus['streams'][number]) => void) =>
    s.sources?.forEach((src) => src.streams.forEach((st) => fn({ source: src.name, stream: st.stream }, st)));

  gauge('junction_stream_lag_seconds', 'seconds between now and the checkpoint cursor, for streams whose cursor is a time', streamLabels, (g, s) =>
    eachStream(s, (l, st) => st.lag.cursorSeconds !== null && g.set(l, st.lag.cursorSeconds)),
  );
  gauge('junction_stream_last_success_age_seconds', 'seconds since the last successful run of the stream ended', streamLabels, (g, s) =>
    eachStream(s, (l, st) => st.lag.sinceSuccessSeconds !== null && g.set(l, st.lag.sinceSuccessSeconds)),
  );
  gauge('junction_stream_records', 'records committed for the stream over all runs (hub.checkpoint.records_total)', streamLabels, (g, s) =>
    eachStream(s, (l, st) => g.set(l, st.recordsTotal)),
  );
  gauge('junction_dead_letters_pending', 'dead letters of the stream not replayed yet', streamLabels, (g, s) => eachStream(s, (l, st) => g.set(l, st.deadLetters.pending)));
  gauge('junction_clickhouse_pending_batches', 'committed batches of the stream whose ClickHouse rows are not sent yet (hub.clickhouse_outbox)', streamLabels, (g, s) =>
    eachStream(s, (l, st) => g.set(l, st.clickhousePending)),
  );
  gauge('junction_queue_jobs', 'sync jobs in the queue by state', ['state'], (g, s) => {
    for (const state of QUEUE_STATES) if (s.queue) g.set({ state }, s.queue[state] ?? 0);
  });
  gauge('junction_circuit_state', 'circuit of each source: 0 closed, 1 half-open, 2 open', ['source'], (g, s) =>
    s.sources?.forEach((src) => src.circuit && g.set({ source: src.name }, CIRCUIT_GAUGE[src.circuit.state])),
  );
  gauge('junction_schedule_paused', '1 when the schedule is paused', ['schedule'], (g, s) => s.paused?.forEach((p, schedule) => g.set({ schedule }, p.paused ? 1 : 0)));

  return own;
}

/**
 * The Prometheus text of the pipelines' registry and `own`. Merged at every scrape, so
 * metrics the pipelines register after the server started are served too.
 */
export async function scrape(own: client.Registry): Promise<{ contentType: string; text: string }> {
  const merged = client.Registry.merge([pipelinesRegistry, own]);
  return { contentType: merged.contentType, text: await merged.metrics() };
}
