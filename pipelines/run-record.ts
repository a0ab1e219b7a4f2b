/**
 * A sync's row in `hub.sync_run`: one per job, kept across the job's attempts (a retried or
 * crashed job resumes its run), with counters bumped in each batch's transaction so they
 * count exactly what committed. Status: running → succeeded | failed | cancelled, or
 * queued while the job waits for a retry (or went back to the queue at a worker shutdown).
 *
 * While it runs, its process beats (`heartbeat_at`, see {@link runHeartbeat}); a run that
 * stops beating was left by a killed process, and {@link reapAbandonedRuns} fails it.
 */
import type pg from 'pg';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/**
 * The trigger of a dead-letter replay's run (pipelines/replay.ts). Such a run loads stored
 * letters, not the source: it is left out of a stream's last successful sync (freshness).
 */
export const REPLAY_TRIGGER = 'replay';

export interface RunRow {
  id: number;
  status: RunStatus;
  startedAt: Date;
  read: number;
  written: number;
  failed: number;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

interface RawRun {
  id: string;
  status: RunStatus;
  started_at: Date;
  records_read: string;
  records_written: string;
  records_failed: string;
}

const RETURNING = 'RETURNING id, status, started_at, records_read, records_written, records_failed';

function toRow(r: RawRun): RunRow {
  return { id: Number(r.id), status: r.status, startedAt: r.started_at, read: Number(r.records_read), written: Number(r.records_written), failed: Number(r.records_failed) };
}

export async function startRun(db: Queryable, source: string, stream: string, mode: string, trigger: string): Promise<RunRow> {
  const res = await db.query<RawRun>(
    `INSERT INTO hub.sync_run (source, stream, mode, status, trigger, started_at, heartbeat_at) VALUES ($1, $2, $3, 'running', $4, now(), now()) ${RETURNING}`,
    [source, stream, mode, trigger],
  );
  return toRow(res.rows[0]!);
}

/**
 * Marks an existing run running again (a new attempt of its job). A run that already
 * succeeded (its worker died after the final commit, before the queue heard of it) is
 * returned as it is; null when the run is gone.
 */
export async function resumeRun(db: Queryable, runId: number): Promise<RunRow | null> {
  const res = await db.query<RawRun>(
    `UPDATE hub.sync_run SET status = 'running', finished_at = NULL, error_code = NULL, error_message = NULL, heartbeat_at = now() WHERE id = $1 AND status <> 'succeeded' ${RETURNING}`,
    [runId],
  );
  if (res.rows[0]) return toRow(res.rows[0]);
  const done = await db.query<RawRun>(`SELECT id, status, started_at, records_read, records_written, records_failed FROM hub.sync_run WHERE id = $1`, [runId]);
  return done.rows[0] ? toRow(done.rows[0]) : null;
}

/** Adds a committed batch's counts (in the batch's transaction). */
export async function countBatch(tx: Queryable, runId: number, read: number, written: number, failed: number): Promise<void> {
  await tx.query(
    `UPDATE hub.sync_run SET records_read = records_read + $2, records_written = records_written + $3, records_failed = records_failed + $4, heartbeat_at = clock_timestamp() WHERE id = $1`,
    [runId, read, written, failed],
  );
}

/** Sets the run's status; a final status also sets finished_at. */
export async function setRunStatus(db: Queryable, runId: number, status: RunStatus, error?: { code: string; message: string }): Promise<void> {
  const final = status === 'succeeded' || status === 'failed' || status === 'cancelled';
  await db.query(`UPDATE hub.sync_run SET status = $2, finished_at = CASE WHEN $5 THEN now() END, error_code = $3, error_message = $4 WHERE id = $1`, [
    runId,
    status,
    error?.code ?? null,
    error?.message ?? null,
    final,
  ]);
}

/**
 * Fails a run that has not ended: a job refused before it could resume its run. A run that
 * already ended (it succeeded before its job came back) keeps its outcome; false then.
 */
export async function failUnfinishedRun(db: Queryable, runId: number, error: { code: string; message: string }): Promise<boolean> {
  const res = await db.query(
    `UPDATE hub.sync_run SET status = 'failed', finished_at = now(), error_code = $2, error_message = $3 WHERE id = $1 AND status IN ('queued', 'running')`,
    [runId, error.code, error.message],
  );
  return (res.rowCount ?? 0) > 0;
}

/** How often a running run's process beats. */
export const HEARTBEAT_MS = 10_000;
/** A running run silent for this long was left by a killed process (a batch commits or a beat lands well within it). */
export const ABANDONED_AFTER_MS = 120_000;

/**
 * Beats for `runId` every {@link HEARTBEAT_MS} until the returned function is called. A
 * failed beat is only logged through `onError`: the run's batches decide its fate, and the
 * next beat may land.
 */
export function runHeartbeat(db: Queryable, runId: number, onError: (err: unknown) => void, everyMs = HEARTBEAT_MS): () => void {
  const timer = setInterval(() => {
    db.query(`UPDATE hub.sync_run SET heartbeat_at = now() WHERE id = $1 AND status = 'running'`, [runId]).catch(onError);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Fails the runs still `running` whose process has not beaten for `afterMs` (killed, or cut
 * off from PostgreSQL): SYNC_RUN_ABANDONED. What their batches committed stays; a worker job
 * that comes back to its run resumes it. Returns the ids of the runs it failed.
 */
export async function reapAbandonedRuns(db: Queryable, afterMs = ABANDONED_AFTER_MS): Promise<number[]> {
  const res = await db.query<{ id: string }>(
    `UPDATE hub.sync_run
        SET status = 'failed', finished_at = now(), error_code = 'SYNC_RUN_ABANDONED',
            error_message = 'its process stopped (killed, or cut off from PostgreSQL): no sign of life since ' || to_char(coalesce(heartbeat_at, started_at, queued_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '; its committed batches stay'
      WHERE status = 'running' AND coalesce(heartbeat_at, started_at, queued_at) < now() - make_interval(secs => $1::float8 / 1000)
      RETURNING id`,
    [afterMs],
  );
  return res.rows.map((r) => Number(r.id));
}
