/**
 * Every source and stream of the config as ops watch them: the last checkpoint and its
 * record total (`hub.checkpoint`), lag, the last run, dead letters, batches whose ClickHouse
 * rows are not sent yet and the source's circuit.
 * Shared by `GET /api/ops/sources` and the collect-time gauges of `/metrics`.
 *
 * Lag comes two ways, because a cursor is not always a time:
 * - `cursorSeconds`: now minus the checkpoint's cursor value, when that value is a time —
 *   an ISO-8601 string with an offset, or a value in the stream's declared `cursor_format`
 *   (the REST connector's wall-clock strings). Ids and offset-less strings give null.
 * - `sinceSuccessSeconds`: now minus the end of the stream's last successful run.
 */
import { DateTime } from 'luxon';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { ResolvedConfig } from '../config/load.js';
import { isIsoWithOffset } from '../connectors/cursor-value.js';
import { listCircuits, type CircuitStatus } from './circuits.js';
import { lastRuns, type RunView } from './runs.js';
import { DEFAULT_KEYS, type JobKeys } from './stream-activity.js';
import { within } from './timeout.js';

/** How long the circuits' Redis read may take: ioredis queues commands while Redis is away. */
const REDIS_MS = 2000;

export interface StreamStatus {
  stream: string;
  checkpoint: { cursor: unknown; key: string | null } | null;
  /** When the checkpoint last moved. */
  checkpointAt: string | null;
  /** Records committed for this stream over all runs (`hub.checkpoint.records_total`). */
  recordsTotal: number;
  lag: { cursorSeconds: number | null; sinceSuccessSeconds: number | null };
  lastRun: RunView | null;
  lastSuccessAt: string | null;
  deadLetters: { pending: number; total: number };
  /** Committed batches whose ClickHouse rows are not sent yet (`hub.clickhouse_outbox`). */
  clickhousePending: number;
}

export interface SourceStatus {
  name: string;
  type: string;
  enabled: boolean;
  /** Null when Redis could not be read; `circuitError` says why. */
  circuit: CircuitStatus | null;
  circuitError: string | null;
  streams: StreamStatus[];
}

export interface StatusDeps {
  config: ResolvedConfig;
  pool: pg.Pool;
  redis: Redis;
  keys?: JobKeys;
  /** @defaultValue new Date() */
  now?: Date;
}

interface CursorFormat {
  format: string;
  timezone?: string;
}

/**
 * The instant a stored checkpoint's cursor value stands for, read with the stream's
 * `cursor_format` (unix seconds or ms, a Luxon format, ISO), or null when it is not (knowably)
 * a time. connectors/cursor-value.ts's `cursorTime` reads typed text (`--since`) without a format.
 */
export function checkpointInstant(value: unknown, format: CursorFormat | undefined): Date | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  let t: DateTime | undefined;
  const zone = format?.timezone ?? 'UTC';
  if (format?.format === 'unix') t = DateTime.fromSeconds(Number(value), { zone });
  else if (format?.format === 'unix_ms') t = DateTime.fromMillis(Number(value), { zone });
  else if (format && format.format !== 'iso') t = DateTime.fromFormat(String(value), format.format, { zone });
  else if (typeof value === 'string' && (format || isIsoWithOffset(value))) t = DateTime.fromISO(value, { zone, setZone: true });
  return t?.isValid ? t.toJSDate() : null;
}

const seconds = (now: Date, then: Date | null) => (then ? Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000)) : null);

interface CheckpointRow {
  source: string;
  stream: string;
  cursor_value: unknown;
  cursor_key: string | null;
  records_total: string;
  updated_at: Date;
}

/** Every declared source with its streams' figures, in config order. */
export async function streamsStatus(deps: StatusDeps): Promise<SourceStatus[]> {
  const { config, pool, redis } = deps;
  const now = deps.now ?? new Date();
  const sources = Object.entries(config.sources);
  const streams = sources.flatMap(([source, cfg]) => Object.keys((cfg as { streams?: object }).streams ?? {}).map((stream) => ({ source, stream })));
  const [checkpoints, letters, outbox, runs, successes, circuits] = await Promise.all([
    pool.query<CheckpointRow>('SELECT source, stream, cursor_value, cursor_key, records_total, updated_at FROM hub.checkpoint'),
    pool.query<{ source: string; stream: string; pending: number; total: number }>(
      `SELECT source, stream, count(*) FILTER (WHERE replayed_at IS NULL)::int AS pending, count(*)::int AS total FROM hub.dead_letter GROUP BY 1, 2`,
    ),
    pool.query<{ source: string; stream: string; n: number }>('SELECT source, stream, count(*)::int AS n FROM hub.clickhouse_outbox GROUP BY 1, 2'),
    lastRuns(pool, streams),
    lastRuns(pool, streams, { succeededOnly: true }),
    within(listCircuits(redis, sources.map(([name]) => name), deps.keys ?? DEFAULT_KEYS), REDIS_MS, 'redis').catch((err: unknown) =>
      err instanceof Error ? err : new Error(String(err)),
    ),
  ]);
  const circuitError = circuits instanceof Error ? `circuits unknown: ${circuits.message}` : null;
  const cp = new Map(checkpoints.rows.map((r) => [`${r.source}.${r.stream}`, r]));
  const dl = new Map(letters.rows.map((r) => [`${r.source}.${r.stream}`, r]));
  const unsent = new Map(outbox.rows.map((r) => [`${r.source}.${r.stream}`, r.n]));
  return sources.map(([name, cfg]) => {
    const src = cfg as { type: string; enabled?: boolean; streams?: Record<string, { cursor_format?: CursorFormat }> };
    return {
      name,
      type: src.type,
      enabled: src.enabled !== false,
      circuit: circuits instanceof Error ? null : circuits.get(name)!,
      circuitError,
      streams: Object.entries(src.streams ?? {}).map(([stream, streamCfg]): StreamStatus => {
        const ref = `${name}.${stream}`;
        const row = cp.get(ref);
        const hasCheckpoint = row !== undefined && (row.cursor_value !== null || row.cursor_key !== null);
        const success = successes.get(ref);
        const successAt = success?.finishedAt ? new Date(success.finishedAt) : null;
        return {
          stream,
          checkpoint: hasCheckpoint ? { cursor: row.cursor_value, key: row.cursor_key } : null,
          checkpointAt: row?.updated_at.toISOString() ?? null,
          recordsTotal: Number(row?.records_total ?? 0),
          lag: {
            cursorSeconds: hasCheckpoint ? seconds(now, checkpointInstant(row.cursor_value, streamCfg.cursor_format)) : null,
            sinceSuccessSeconds: seconds(now, successAt),
          },
          lastRun: runs.get(ref) ?? null,
          lastSuccessAt: successAt?.toISOString() ?? null,
          deadLetters: { pending: dl.get(ref)?.pending ?? 0, total: dl.get(ref)?.total ?? 0 },
          clickhousePending: unsent.get(ref) ?? 0,
        };
      }),
    };
  });
}
