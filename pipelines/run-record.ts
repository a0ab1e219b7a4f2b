/**
 * A sync's row in `hub.sync_run`: one per job, kept across the job's attempts (a retried or
 * crashed job resumes its run), with counters bumped in each batch's transaction so they
 * count exactly what committed. Status: running → succeeded | failed | cancelled, or
 * queued while the job waits for a retry (or went back to the queue at a worker shutdown).
 */
import type pg from 'pg';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

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
    `INSERT INTO hub.sync_run (source, stream, mode, status, trigger, started_at) VALUES ($1, $2, $3, 'running', $4, now()) ${RETURNING}`,
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
    `UPDATE hub.sync_run SET status = 'running', finished_at = NULL, error_code = NULL, error_message = NULL WHERE id = $1 AND status <> 'succeeded' ${RETURNING}`,
    [runId],
  );
  if (res.rows[0]) return toRow(res.rows[0]);
  const done = await db.query<RawRun>(`SELECT id, status, started_at, records_read, records_written, records_failed FROM hub.sync_run WHERE id = $1`, [runId]);
  return done.rows[0] ? toRow(done.rows[0]) : null;
}

/** Adds a committed batch's counts (in the batch's transaction). */
export async function countBatch(tx: Queryable, runId: number, read: number, written: number, failed: number): Promise<void> {
  await tx.query(
    `UPDATE hub.sync_run SET records_read = records_read + $2, records_written = records_written + $3, records_failed = records_failed + $4 WHERE id = $1`,
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
