/**
 * Sync run history (`hub.sync_run`) as the ops API and `junction schedules list` show it:
 * newest first, paged by id (`before`), filtered by stream, status or trigger.
 */
import type pg from 'pg';
import { REPLAY_TRIGGER } from '../pipelines/run-record.js';

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';
export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;

export interface RunView {
  id: number;
  source: string;
  stream: string;
  mode: string;
  status: RunStatus;
  trigger: string;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  recordsRead: number;
  recordsWritten: number;
  recordsFailed: number;
  errorCode: string | null;
  errorMessage: string | null;
}

export interface RunFilter {
  source?: string;
  stream?: string;
  status?: RunStatus;
  trigger?: string;
  /** Only runs with an id below this (the previous page's `next`). */
  before?: number;
  /** @defaultValue 50 */
  limit?: number;
}

interface RunRow {
  id: string;
  source: string;
  stream: string;
  mode: string;
  status: RunStatus;
  trigger: string;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  records_read: string;
  records_written: string;
  records_failed: string;
  error_code: string | null;
  error_message: string | null;
}

const COLUMNS = `id, source, stream, mode, status, trigger, queued_at, started_at, finished_at,
  records_read, records_written, records_failed, error_code, error_message`;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toView(r: RunRow): RunView {
  return {
    id: Number(r.id),
    source: r.source,
    stream: r.stream,
    mode: r.mode,
    status: r.status,
    trigger: r.trigger,
    queuedAt: r.queued_at.toISOString(),
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    recordsRead: Number(r.records_read),
    recordsWritten: Number(r.records_written),
    recordsFailed: Number(r.records_failed),
    errorCode: r.error_code,
    errorMessage: r.error_message,
  };
}

/** One page of runs, newest first; `next` is the `before` of the following page. */
export async function listRuns(db: Queryable, filter: RunFilter = {}): Promise<{ runs: RunView[]; next: number | null }> {
  const limit = filter.limit ?? 50;
  const res = await db.query<RunRow>(
    `SELECT ${COLUMNS} FROM hub.sync_run
      WHERE ($1::text IS NULL OR source = $1) AND ($2::text IS NULL OR stream = $2) AND ($3::text IS NULL OR status = $3)
        AND ($4::text IS NULL OR trigger = $4) AND ($5::bigint IS NULL OR id < $5)
      ORDER BY id DESC LIMIT $6`,
    [filter.source ?? null, filter.stream ?? null, filter.status ?? null, filter.trigger ?? null, filter.before ?? null, limit + 1],
  );
  const runs = res.rows.slice(0, limit).map(toView);
  return { runs, next: res.rows.length > limit ? runs[runs.length - 1]!.id : null };
}

export async function getRun(db: Queryable, id: number): Promise<RunView | undefined> {
  const res = await db.query<RunRow>(`SELECT ${COLUMNS} FROM hub.sync_run WHERE id = $1`, [id]);
  return res.rows[0] && toView(res.rows[0]);
}

/**
 * The latest run of each stream (`source.stream` → run); skipped ticks are left out, so this
 * is the last run that did (or is doing) work. With `succeededOnly`, the last successful
 * sync: a dead-letter replay (trigger `replay`) loads stored letters, not the source, and a
 * backfill reads a range of old dates, so neither says how fresh the stream is: left out.
 */
export async function lastRuns(db: Queryable, streams: readonly { source: string; stream: string }[], opts: { succeededOnly?: boolean } = {}): Promise<Map<string, RunView>> {
  if (streams.length === 0) return new Map();
  const res = await db.query<RunRow>(
    `SELECT DISTINCT ON (source, stream) ${COLUMNS} FROM hub.sync_run
      WHERE (source, stream) IN (SELECT * FROM unnest($1::text[], $2::text[]))
        AND status <> 'skipped' AND (NOT $3 OR (status = 'succeeded' AND trigger <> $4 AND mode <> 'backfill'))
      ORDER BY source, stream, id DESC`,
    [streams.map((s) => s.source), streams.map((s) => s.stream), opts.succeededOnly ?? false, REPLAY_TRIGGER],
  );
  return new Map(res.rows.map((r) => [`${r.source}.${r.stream}`, toView(r)]));
}
