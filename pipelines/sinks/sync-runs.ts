/**
 * Sync runs as analysts see them (ClickHouse `sync_runs`, sql/clickhouse/001_sync_runs.sql;
 * `sync_runs_current` shows each run once). A run is re-sent as it progresses; its version
 * is the hub PostgreSQL's clock at the send, so the latest state wins even when two workers
 * sent it (a run resumed elsewhere after a crash): their own clocks may disagree.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { JunctionError } from '../../config/errors.js';
import { clickhouseErrorCode, isRetryableClickhouseError } from './clickhouse-client.js';

/** One run's current state, as `hub.sync_run` holds it. */
export interface SyncRunRow {
  runId: number;
  source: string;
  stream: string;
  mode: string;
  /** `running`, `succeeded`, `failed`, `cancelled`, `skipped`. */
  status: string;
  startedAt: Date;
  /** Null while it runs (sent as the zero DateTime). */
  finishedAt: Date | null;
  recordsRead: number;
  recordsWritten: number;
  recordsFailed: number;
  errorCode: string | null;
}

/**
 * The version of a run row sent now: microseconds of the hub PostgreSQL's clock, the one
 * clock every worker shares (`clock_timestamp()`, which moves within a transaction too).
 */
export async function hubVersion(db: Pick<pg.Pool | pg.PoolClient, 'query'>): Promise<number> {
  const { rows } = await db.query<{ v: string }>(`SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::int8 AS v`);
  return Number(rows[0]!.v);
}

const seconds = (d: Date | null) => (d === null ? 0 : Math.floor(d.getTime() / 1000));

/** The ClickHouse row of a run state (exported for tests and bulk back-fills). */
export function syncRunValues(row: SyncRunRow, version: number): Record<string, unknown> {
  return {
    run_id: row.runId,
    source: row.source,
    stream: row.stream,
    mode: row.mode,
    status: row.status,
    started_at: seconds(row.startedAt),
    finished_at: seconds(row.finishedAt),
    records_read: row.recordsRead,
    records_written: row.recordsWritten,
    records_failed: row.recordsFailed,
    error_code: row.errorCode ?? '',
    version,
  };
}

/**
 * Sends the run's current state (one row; cheap enough per batch or at the end), versioned
 * by `hub`'s clock ({@link hubVersion}). A failure is `SYNC_CLICKHOUSE_FAILED` (reading the
 * clock: the pg error); callers that report runs on the side may log it and go on.
 */
export async function insertSyncRunRow(client: ClickHouseClient, hub: Pick<pg.Pool | pg.PoolClient, 'query'>, row: SyncRunRow): Promise<void> {
  const version = await hubVersion(hub);
  try {
    await client.insert({ table: 'sync_runs', values: [syncRunValues(row, version)], format: 'JSONEachRow' });
  } catch (err) {
    throw new JunctionError('SYNC_CLICKHOUSE_FAILED', `sending run ${row.runId} of ${row.source}.${row.stream} to ClickHouse sync_runs failed: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
      where: { source: row.source },
      details: { table: 'sync_runs', clickhouseCode: clickhouseErrorCode(err) },
      retryable: isRetryableClickhouseError(err),
    });
  }
}
