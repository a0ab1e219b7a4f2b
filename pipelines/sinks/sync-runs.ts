/**
 * Sync runs as analysts see them (ClickHouse `sync_runs`, sql/clickhouse/001_sync_runs.sql;
 * `sync_runs_current` shows each run once). A run is re-sent as it progresses; its version
 * is the hub PostgreSQL's clock at the send, so the latest state wins even when two workers
 * sent it (a run resumed elsewhere after a crash): their own clocks may disagree. Runs that
 * end outside runSync (failed by the scheduler's reaper, or by a worker refusing their job)
 * are sent as `hub.sync_run` holds them ({@link sendRunStates}).
 *
 * Each row carries the run's trigger (sql/clickhouse/003_sync_runs_trigger.sql), so the
 * freshness query can leave dead-letter replays (trigger `replay`) out of the last sync.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { JunctionError } from '../../config/errors.js';
import { clickhouseErrorCode, isRetryableClickhouseError } from './clickhouse-client.js';
import { PG_CLOCK_MICROS, pgClockVersion } from './clickhouse.js';

/** One run's current state, as `hub.sync_run` holds it. */
export interface SyncRunRow {
  runId: number;
  source: string;
  stream: string;
  mode: string;
  /**
   * What started it, as `hub.sync_run.trigger` holds it (`cli`, `ops`, `schedule:<name>`,
   * `replay`…). Left out, it is read from `hub.sync_run` with the version.
   */
  trigger?: string;
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

const seconds = (d: Date | null) => (d === null ? 0 : Math.floor(d.getTime() / 1000));

/** The ClickHouse row of a run state (exported for tests and bulk back-fills). */
export function syncRunValues(row: SyncRunRow, version: number): Record<string, unknown> {
  return {
    run_id: row.runId,
    source: row.source,
    stream: row.stream,
    mode: row.mode,
    trigger: row.trigger ?? '',
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
 * by `hub`'s clock ({@link pgClockVersion}). A failure is `SYNC_CLICKHOUSE_FAILED` (reading the
 * clock: the pg error); callers that report runs on the side may log it and go on.
 */
export async function insertSyncRunRow(client: ClickHouseClient, hub: Pick<pg.Pool | pg.PoolClient, 'query'>, row: SyncRunRow): Promise<void> {
  let version: number;
  let trigger = row.trigger;
  if (trigger === undefined) {
    // One round trip for both: the run's own row says what started it ('' when it is gone).
    const { rows } = await hub.query<{ v: string; trigger: string | null }>(
      `SELECT ${PG_CLOCK_MICROS} AS v, (SELECT trigger FROM hub.sync_run WHERE id = $1) AS trigger`,
      [row.runId],
    );
    version = Number(rows[0]!.v);
    trigger = rows[0]!.trigger ?? '';
  } else {
    version = await pgClockVersion(hub);
  }
  await insertRows(client, [{ ...row, trigger }], version, `run ${row.runId} of ${row.source}.${row.stream}`);
}

interface RawRunState {
  id: string;
  source: string;
  stream: string;
  mode: string;
  trigger: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  records_read: string;
  records_written: string;
  records_failed: string;
  error_code: string | null;
}

/**
 * Sends runs as `hub.sync_run` now holds them, all in one insert: runs that end outside
 * runSync, which reports its own (the scheduler's reaper, a worker refusing a job before its
 * run could resume). The version is read before the rows, so a state committed after they
 * are read (a worker resuming the run) carries a later version wherever it is sent from.
 * Runs that are gone are left out; returns how many were sent. Fails as {@link insertSyncRunRow} does.
 */
export async function sendRunStates(client: ClickHouseClient, hub: Pick<pg.Pool | pg.PoolClient, 'query'>, runIds: readonly number[]): Promise<number> {
  if (runIds.length === 0) return 0;
  const version = await pgClockVersion(hub);
  const { rows } = await hub.query<RawRunState>(
    // A run failed before it started has its queueing time only.
    `SELECT id, source, stream, mode, trigger, status, coalesce(started_at, queued_at) AS started_at, finished_at, records_read, records_written, records_failed, error_code
       FROM hub.sync_run WHERE id = ANY($1::int8[]) ORDER BY id`,
    [runIds],
  );
  if (rows.length === 0) return 0;
  const states = rows.map(
    (r): SyncRunRow => ({
      runId: Number(r.id),
      source: r.source,
      stream: r.stream,
      mode: r.mode,
      trigger: r.trigger,
      status: r.status,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      recordsRead: Number(r.records_read),
      recordsWritten: Number(r.records_written),
      recordsFailed: Number(r.records_failed),
      errorCode: r.error_code,
    }),
  );
  await insertRows(client, states, version, states.length === 1 ? `run ${states[0]!.runId} of ${states[0]!.source}.${states[0]!.stream}` : `runs ${states.map((r) => r.runId).join(', ')}`);
  return states.length;
}

async function insertRows(client: ClickHouseClient, rows: readonly SyncRunRow[], version: number, what: string): Promise<void> {
  try {
    await client.insert({ table: 'sync_runs', values: rows.map((r) => syncRunValues(r, version)), format: 'JSONEachRow' });
  } catch (err) {
    const sources = [...new Set(rows.map((r) => r.source))];
    throw new JunctionError('SYNC_CLICKHOUSE_FAILED', `sending ${what} to ClickHouse sync_runs failed: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
      where: sources.length === 1 ? { source: sources[0] } : undefined,
      details: { table: 'sync_runs', clickhouseCode: clickhouseErrorCode(err) },
      retryable: isRetryableClickhouseError(err),
    });
  }
}
