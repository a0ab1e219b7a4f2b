/**
 * Sync runs as analysts see them (ClickHouse `sync_runs`, sql/clickhouse/001_sync_runs.sql;
 * `sync_runs_current` shows each run once). A run is re-sent as it progresses; its version
 * is the hub PostgreSQL's clock at the send, so the latest state wins even when two workers
 * sent it (a run resumed elsewhere after a crash): their own clocks may disagree. Runs that
 * end outside runSync (failed by the scheduler's reaper, or by a worker refusing their job)
 * are sent as `hub.sync_run` holds them ({@link sendRunStates}), and so is a run whose final
 * row never arrived, by the stream's next run ({@link sendUnreportedRuns}).
 *
 * Each row carries the run's trigger (sql/clickhouse/003_sync_runs_trigger.sql), so the
 * freshness query can leave dead-letter replays (trigger `replay`) out of the last sync.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { JunctionError } from '../../config/errors.js';
import { clickhouseErrorCode, isRetryableClickhouseError } from './clickhouse-client.js';
import { PG_CLOCK_MICROS, pgClockVersion } from './clickhouse.js';
import { clampDateTime } from './datetime.js';

/** The statuses a run ends in (`skipped` runs never reach ClickHouse: they did not run). */
export const ENDED_STATUSES: readonly string[] = ['succeeded', 'failed', 'cancelled'];

/** How many of a stream's latest ended runs {@link sendUnreportedRuns} looks at. */
export const RECENT_RUNS = 20;

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

// Both columns are DateTime, not Nullable; the times are the hub's clock, so only a broken
// clock (or a hand-edited hub.sync_run) falls outside 1970–2106: clamped rather than wrapped.
const seconds = (d: Date | null) => (d === null ? 0 : clampDateTime(Math.floor(d.getTime() / 1000)));

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

/** A ClickHouse string literal (18.16 has no query parameters). */
function chString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Sends again, as `hub.sync_run` holds them, the stream's latest `recent` ended runs before
 * `beforeRunId` whose end ClickHouse lacks: no row, or a latest status other than the hub's.
 * A run's final row is sent once, by its own process, which logs a failure and goes on (the
 * run is done in PostgreSQL) or may be killed just after ending the run; so the stream's next
 * run looks back when it starts. One indexed read of `hub.sync_run`, one read of `sync_runs`
 * on its sort key, and an insert only when something is missing. Returns how many were sent;
 * fails as {@link insertSyncRunRow} does.
 */
export async function sendUnreportedRuns(
  client: ClickHouseClient,
  hub: Pick<pg.Pool | pg.PoolClient, 'query'>,
  source: string,
  stream: string,
  beforeRunId: number,
  recent = RECENT_RUNS,
): Promise<number> {
  const { rows: ended } = await hub.query<{ id: string; status: string }>(
    `SELECT id::text AS id, status FROM hub.sync_run
      WHERE source = $1 AND stream = $2 AND id < $3 AND status = ANY($4::text[]) ORDER BY id DESC LIMIT $5`,
    [source, stream, beforeRunId, ENDED_STATUSES, recent],
  );
  if (ended.length === 0) return 0;
  let reported: Map<string, string>;
  try {
    const result = await client.query({
      query: `SELECT toString(run_id) AS id, argMax(status, version) AS status FROM sync_runs
               WHERE source = ${chString(source)} AND stream = ${chString(stream)} AND run_id IN (${ended.map((r) => Number(r.id)).join(', ')})
               GROUP BY run_id`,
      format: 'JSONEachRow',
    });
    reported = new Map((await result.json<{ id: string; status: string }>()).map((r) => [r.id, r.status]));
  } catch (err) {
    throw new JunctionError('SYNC_CLICKHOUSE_FAILED', `reading the runs of ${source}.${stream} from ClickHouse sync_runs failed: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
      where: { source },
      details: { table: 'sync_runs', clickhouseCode: clickhouseErrorCode(err) },
      retryable: isRetryableClickhouseError(err),
    });
  }
  return sendRunStates(client, hub, ended.filter((r) => reported.get(r.id) !== r.status).map((r) => Number(r.id)));
}
