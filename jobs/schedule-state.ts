/**
 * What the schedules keep in PostgreSQL (`sql/postgres/003_jobs.sql`): the pause state of
 * each schedule, and one row per scheduler tick. The tick row is the arbiter between
 * scheduler processes: whoever inserts it first owns the tick.
 */
import type pg from 'pg';
import { JunctionError } from '../config/errors.js';

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** What a tick did. `claimed` is the short-lived state between winning a tick and deciding. */
export type TickStatus = 'claimed' | 'enqueued' | 'skipped' | 'paused' | 'failed';

export interface PauseState {
  paused: boolean;
  pausedAt: Date | null;
  pausedBy: string | null;
}

export interface TickRow {
  schedule: string;
  tick: Date;
  status: TickStatus;
  jobId: string | null;
  runId: number | null;
  reason: string | null;
  scheduler: string;
}

const NOT_PAUSED: PauseState = { paused: false, pausedAt: null, pausedBy: null };

/** Fails with JOB_SCHEMA_MISSING when `junction migrate` has not created the jobs tables. */
export async function assertJobsSchema(db: Queryable): Promise<void> {
  const res = await db.query<{ state: string | null; tick: string | null }>(
    `SELECT to_regclass('hub.schedule_state')::text AS state, to_regclass('hub.schedule_tick')::text AS tick`,
  );
  const row = res.rows[0];
  if (!row?.state || !row.tick) {
    throw new JunctionError('JOB_SCHEMA_MISSING', 'the hub database has no hub.schedule_state / hub.schedule_tick tables; run `junction migrate` first');
  }
}

/** Pause state of every schedule named (those never paused are reported not paused). */
export async function readPauseStates(db: Queryable, names: readonly string[]): Promise<Map<string, PauseState>> {
  const res = await db.query<{ name: string; paused: boolean; paused_at: Date | null; paused_by: string | null }>(
    'SELECT name, paused, paused_at, paused_by FROM hub.schedule_state WHERE name = ANY($1::text[])',
    [names],
  );
  const out = new Map(names.map((n) => [n, NOT_PAUSED]));
  for (const r of res.rows) out.set(r.name, { paused: r.paused, pausedAt: r.paused_at, pausedBy: r.paused_by });
  return out;
}

/** Pauses (or resumes) a schedule; `by` says who, e.g. `cli:alice` or `ops-api`. */
export async function setPaused(db: Queryable, name: string, paused: boolean, by: string): Promise<PauseState> {
  const res = await db.query<{ paused: boolean; paused_at: Date | null; paused_by: string | null }>(
    `INSERT INTO hub.schedule_state (name, paused, paused_at, paused_by, updated_at)
     VALUES ($1, $2, CASE WHEN $2 THEN now() END, CASE WHEN $2 THEN $3 END, now())
     ON CONFLICT (name) DO UPDATE
       SET paused = EXCLUDED.paused,
           -- pausing a paused schedule keeps when and by whom it was first paused
           paused_at = CASE WHEN hub.schedule_state.paused AND EXCLUDED.paused THEN hub.schedule_state.paused_at ELSE EXCLUDED.paused_at END,
           paused_by = CASE WHEN hub.schedule_state.paused AND EXCLUDED.paused THEN hub.schedule_state.paused_by ELSE EXCLUDED.paused_by END,
           updated_at = now()
     RETURNING paused, paused_at, paused_by`,
    [name, paused, by],
  );
  const r = res.rows[0]!;
  return { paused: r.paused, pausedAt: r.paused_at, pausedBy: r.paused_by };
}

/**
 * Claims a tick for this scheduler. False when another scheduler (or an earlier call) has it:
 * the caller must then do nothing for this tick.
 */
export async function claimTick(db: Queryable, schedule: string, tick: Date, jobId: string, scheduler: string): Promise<boolean> {
  const res = await db.query(
    `INSERT INTO hub.schedule_tick (schedule, tick, status, job_id, scheduler) VALUES ($1, $2, 'claimed', $3, $4)
     ON CONFLICT (schedule, tick) DO NOTHING`,
    [schedule, tick, jobId, scheduler],
  );
  return res.rowCount === 1;
}

/** A tick to decide again: claimed by a scheduler that never finished it, or whose enqueue failed. */
export interface StaleTick {
  schedule: string;
  tick: Date;
  jobId: string;
  /** Who held it when it was read: the take-over only wins if it still does. */
  scheduler: string;
}

/**
 * Ticks of the last `withinMs` still `claimed` more than `graceMs` after they were claimed
 * (their scheduler died between claiming and deciding) or `failed` (the enqueue failed), of
 * the schedules named.
 */
export async function staleTicks(db: Queryable, names: readonly string[], graceMs: number, withinMs: number): Promise<StaleTick[]> {
  const res = await db.query<{ schedule: string; tick: Date; job_id: string; scheduler: string }>(
    `SELECT schedule, tick, job_id, scheduler FROM hub.schedule_tick
      WHERE schedule = ANY($1::text[]) AND tick > now() - make_interval(secs => $3::float8 / 1000)
        AND (status = 'failed' OR (status = 'claimed' AND created_at < now() - make_interval(secs => $2::float8 / 1000)))
      ORDER BY tick`,
    [names, graceMs, withinMs],
  );
  return res.rows.map((r) => ({ schedule: r.schedule, tick: r.tick, jobId: r.job_id, scheduler: r.scheduler }));
}

/**
 * Takes a stale tick over (compare-and-set on its holder and state): true when this scheduler
 * now owns it. Two schedulers taking the same tick over cannot both win; and if the first
 * holder was only slow, both enqueue the same job id, which BullMQ keeps once.
 */
export async function retakeTick(db: Queryable, stale: StaleTick, scheduler: string): Promise<boolean> {
  const res = await db.query(
    `UPDATE hub.schedule_tick SET scheduler = $3, status = 'claimed', reason = NULL, created_at = now()
      WHERE schedule = $1 AND tick = $2 AND scheduler = $4 AND status IN ('claimed', 'failed')`,
    [stale.schedule, stale.tick, scheduler, stale.scheduler],
  );
  return res.rowCount === 1;
}

/**
 * Whether `scheduler` holds the tick, locking its row for the caller's transaction: a
 * take-over (retakeTick) waits for that transaction to end.
 */
export async function holdsTick(db: Queryable, schedule: string, tick: Date, scheduler: string): Promise<boolean> {
  const res = await db.query('SELECT 1 FROM hub.schedule_tick WHERE schedule = $1 AND tick = $2 AND scheduler = $3 FOR UPDATE', [schedule, tick, scheduler]);
  return res.rowCount === 1;
}

/**
 * Records what a claimed tick did. With `scheduler`, only while that scheduler holds the
 * tick: one only slow past the grace, whose tick another took over, does not write over the
 * other's outcome.
 */
export async function finishTick(
  db: Queryable,
  schedule: string,
  tick: Date,
  outcome: { status: Exclude<TickStatus, 'claimed'>; reason?: string; runId?: number },
  scheduler?: string,
): Promise<void> {
  await db.query('UPDATE hub.schedule_tick SET status = $3, reason = $4, run_id = $5 WHERE schedule = $1 AND tick = $2 AND ($6::text IS NULL OR scheduler = $6)', [
    schedule,
    tick,
    outcome.status,
    outcome.reason ?? null,
    outcome.runId ?? null,
    scheduler ?? null,
  ]);
}

/**
 * A skipped tick as a `hub.sync_run` row (status `skipped`), so run history shows it next to
 * the runs; its error columns say why.
 */
export async function recordSkippedRun(
  db: Queryable,
  run: { source: string; stream: string; mode: string; trigger: string; reason: string },
): Promise<number> {
  const res = await db.query<{ id: string }>(
    `INSERT INTO hub.sync_run (source, stream, mode, status, trigger, queued_at, started_at, finished_at, error_code, error_message)
     VALUES ($1, $2, $3, 'skipped', $4, now(), NULL, now(), 'JOB_TICK_SKIPPED', $5) RETURNING id`,
    [run.source, run.stream, run.mode, run.trigger, run.reason],
  );
  return Number(res.rows[0]!.id);
}

/** The latest tick of each schedule named. */
export async function lastTicks(db: Queryable, names: readonly string[]): Promise<Map<string, TickRow>> {
  const res = await db.query<{ schedule: string; tick: Date; status: TickStatus; job_id: string | null; run_id: string | null; reason: string | null; scheduler: string }>(
    `SELECT DISTINCT ON (schedule) schedule, tick, status, job_id, run_id, reason, scheduler
       FROM hub.schedule_tick WHERE schedule = ANY($1::text[]) ORDER BY schedule, tick DESC`,
    [names],
  );
  return new Map(
    res.rows.map((r) => [
      r.schedule,
      { schedule: r.schedule, tick: r.tick, status: r.status, jobId: r.job_id, runId: r.run_id === null ? null : Number(r.run_id), reason: r.reason, scheduler: r.scheduler },
    ]),
  );
}

/** Drops tick rows older than `keepDays` (they only serve the arbitration and recent history). */
export async function pruneTicks(db: Queryable, schedule: string, keepDays: number): Promise<void> {
  await db.query(`DELETE FROM hub.schedule_tick WHERE schedule = $1 AND tick < now() - make_interval(days => $2)`, [schedule, keepDays]);
}
