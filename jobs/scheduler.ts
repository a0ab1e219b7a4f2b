/**
 * The scheduler role: one node-cron task per enabled schedule; each tick enqueues the
 * schedule's sync job. Any number of scheduler processes may run: a tick is claimed in
 * PostgreSQL first (`hub.schedule_tick`, first insert wins) and its job id is deterministic
 * (`schedule:<name>:<tick, epoch ms>`: the tick's minute, or its second for a 6-field cron),
 * so one tick gives one job. A tick whose stream still has a job waiting or running is
 * skipped and recorded as such (ticks of one stream decide one at a time, across schedulers); a paused schedule's tick is recorded as `paused` and enqueues
 * nothing. A tick left `claimed` by a scheduler that died before deciding it, or `failed`
 * because the enqueue failed, is taken over and decided again by any scheduler (at start and
 * then every {@link SWEEP_MS}, on a timer of its own) while it is recent: a nightly sync is not lost to a
 * crash or a Redis blip at 03:00. A tick that a daylight-saving gap swallows (node-cron
 * skips wall-clock times that do not happen) runs at the end of the gap, and the ticks of an
 * every-hour schedule in both passes of an hour clocks going back repeat (node-cron fires
 * in one at most) run then, found by the same timer (dst-gaps.ts). A tick the process reaches late (a blocked event loop, a suspended
 * host) still runs while it is within the stale-tick window: from node-cron's
 * `execution:missed` when a later slot came meanwhile. The same timer fails runs left
 * `running` by a killed process (SYNC_RUN_ABANDONED: no heartbeat for
 * {@link ABANDONED_AFTER_MS}) and sends their final state to ClickHouse `sync_runs`, which
 * their dead process never will.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import cron, { type ScheduledTask } from 'node-cron';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { stackSettings } from '../config/env.js';
import { JunctionError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../config/log.js';
import { enqueueSync, type SyncJobData, type SyncJobResult } from '../pipelines/queue.js';
import { ABANDONED_AFTER_MS, reapAbandonedRuns } from '../pipelines/run-record.js';
import { syncJobOptions } from '../pipelines/job-options.js';
import { createClickhouseClient } from '../pipelines/sinks/clickhouse-client.js';
import { inTransaction } from '../pipelines/transaction.js';
import { sendRunStates } from '../pipelines/sinks/sync-runs.js';
import { tickUnit } from './cron-matcher.js';
import { gapTicks, repeatTicks } from './dst-gaps.js';
import { findSchedule, scheduleTarget, type Schedule } from './schedules.js';
import { claimTick, finishTick, holdsTick, pruneTicks, readPauseStates, recordSkippedRun, retakeTick, staleTicks } from './schedule-state.js';
import { DEFAULT_KEYS, streamActivity, type JobKeys } from './stream-activity.js';
import { within } from './timeout.js';

export interface SchedulerOptions {
  config: ResolvedConfig;
  pool: pg.Pool;
  queue: Queue<SyncJobData, SyncJobResult>;
  /** For the stream locks the workers hold. */
  redis: Redis;
  log: Logger;
  /** Redis key names of stream locks. @defaultValue the production keys of pipelines/queue.ts */
  keys?: JobKeys;
  /** Names this process in `hub.schedule_tick.scheduler`. @defaultValue `<hostname>:<pid>` */
  instance?: string;
  /** Tick rows older than this are deleted. @defaultValue 30 */
  keepTickDays?: number;
  /** How long a tick may stay `claimed` before another scheduler takes it over. @defaultValue 30000 */
  staleTickGraceMs?: number;
  /** How far back stale ticks are decided again (older ones stay as they are). @defaultValue 900000 */
  staleTickWindowMs?: number;
  /** How often stale ticks are looked for while the scheduler runs. @defaultValue {@link SWEEP_MS} */
  sweepMs?: number;
  /** A running run without a heartbeat for this long is failed as abandoned. @defaultValue {@link ABANDONED_AFTER_MS} */
  abandonedRunMs?: number;
  /** Where the final state of abandoned runs is sent (`sync_runs`). @defaultValue a client of its own on the stack's ClickHouse, closed by `stop()` */
  clickhouse?: ClickHouseClient;
}

export type TickResult =
  | { status: 'enqueued'; schedule: string; tick: Date; jobId: string }
  | { status: 'skipped'; schedule: string; tick: Date; jobId: string; reason: string; runId: number }
  | { status: 'paused'; schedule: string; tick: Date; jobId: string }
  /** Another scheduler (or an earlier call) already owns this tick. */
  | { status: 'duplicate'; schedule: string; tick: Date; jobId: string };

export interface Scheduler {
  /** Starts one cron task per enabled schedule; returns their names. */
  start(): string[];
  /**
   * Handles the tick of schedule `name` planned for `at` (what each cron task calls; tests
   * call it directly with a fixed time). `at` is truncated to the minute (to the second for a
   * 6-field cron).
   */
  tick(name: string, at: Date): Promise<TickResult>;
  /** Takes over and decides the stale ticks of the enabled schedules (what start and ticks run); their results. */
  retryStaleTicks(): Promise<TickResult[]>;
  /**
   * Runs, at the end of each daylight-saving gap in (from, to], the ticks of the enabled
   * schedules that the gap swallowed, and their ticks in (from, to] of both passes of an hour
   * repeated by clocks going back (node-cron fires one at most; a tick it fires too is claimed
   * once) (what the sweep runs over the time since its last look).
   */
  runGapTicks(from: Date, to: Date): Promise<TickResult[]>;
  /**
   * Fails the runs left running by a killed process (what the sweep runs) and sends their
   * state to ClickHouse `sync_runs` in one insert, with those an earlier sweep could not send;
   * the ids of the runs it failed.
   */
  reapAbandonedRuns(): Promise<number[]>;
  /** Stops ticking and waits for ticks in progress. */
  stop(): Promise<void>;
}

const MINUTE = 60_000;
/** How long a tick waits for Redis to say whether its stream is busy. */
const REDIS_WAIT_MS = 5_000;
/** How long stop() waits for ticks in progress. */
const STOP_WAIT_MS = 15_000;
/** The least time between two looks for stale ticks. */
export const SWEEP_MS = 30_000;
/** Reaped runs whose ClickHouse send failed are kept for the next sweep, up to this many (the oldest go first). */
const UNSENT_RUNS_KEPT = 10_000;


/** The job id of a tick: equal in every scheduler process for the same schedule and minute. */
export function tickJobId(name: string, tick: Date): string {
  // BullMQ refuses ':' in custom ids unless there are exactly three parts (its repeatable-job
  // form); schedule names cannot contain ':' (config schema), so this id always has three.
  return `schedule:${name}:${tick.getTime()}`;
}

/** A scheduler's queue of ticks deciding on each stream, one at a time. */
type StreamTurns = Map<string, LimitFunction>;

/**
 * Runs `work` (a tick's busy check and enqueue) while no other tick of `stream` does, in this
 * process or any scheduler: otherwise ticks deciding at once (the slots a late process runs
 * together, two schedules of one stream firing in the same minute) would all find the stream
 * idle and enqueue a job each. A scheduler queues its own ticks in memory (`p-limit` of 1 per
 * stream: the config's streams, a bounded set), so a burst holds a single PostgreSQL
 * connection; across schedulers a transaction-level advisory lock on the stream orders them.
 */
async function inStreamTurn<T>(turns: StreamTurns, pool: pg.Pool, stream: string, work: (tx: pg.ClientBase) => Promise<T>): Promise<T> {
  let turn = turns.get(stream);
  if (!turn) turns.set(stream, (turn = pLimit(1)));
  return turn(() =>
    inTransaction(pool, async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('junction.schedule.stream'), hashtext($1))`, [stream]);
      return work(tx);
    }),
  );
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { config, pool, queue, redis, log } = options;
  const keys = options.keys ?? DEFAULT_KEYS;
  const instance = options.instance ?? `${os.hostname()}:${process.pid}`;
  const keepDays = options.keepTickDays ?? 30;
  const graceMs = options.staleTickGraceMs ?? 30_000;
  const windowMs = options.staleTickWindowMs ?? 15 * MINUTE;
  const sweepMs = options.sweepMs ?? SWEEP_MS;
  const abandonedRunMs = options.abandonedRunMs ?? ABANDONED_AFTER_MS;
  const ownClickhouse = options.clickhouse ? undefined : createClickhouseClient(stackSettings(), { log });
  const clickhouse = options.clickhouse ?? ownClickhouse!;
  const unsentRuns = new Set<number>();
  let lastSweep = 0;
  let gapsCheckedTo = Date.now();
  let sweepTimer: NodeJS.Timeout | undefined;
  const tasks: ScheduledTask[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const turns: StreamTurns = new Map();
  let stopped = false;

  async function decide(schedule: Schedule, tick: Date, jobId: string): Promise<TickResult> {
    const name = schedule.name;
    const { source, stream } = scheduleTarget(schedule);
    const pause = (await readPauseStates(pool, [name])).get(name);
    if (pause?.paused) {
      await finishTick(pool, name, tick, { status: 'paused', reason: `paused by ${pause.pausedBy ?? 'unknown'}` }, instance);
      log.info({ schedule: name, tick }, 'schedule paused: tick not enqueued');
      return { status: 'paused', schedule: name, tick, jobId };
    }
    const outcome = await inStreamTurn(turns, pool, `${source}.${stream}`, (tx) => enqueueUnlessBusy(tx, schedule, tick, jobId));
    if ('failed' in outcome) {
      const reason = (outcome.failed as Error).message;
      throw new JunctionError('JOB_ENQUEUE_FAILED', `schedule ${name}: could not enqueue ${schedule.sync}: ${reason}`, { cause: outcome.failed, retryable: true, where: { source } });
    }
    return outcome;
  }

  /**
   * The busy check and the enqueue of a tick, in its stream's turn (see {@link inStreamTurn});
   * what it records goes through the turn's transaction, which holds the tick's row: a
   * scheduler taking the tick over waits for it, and one that took it over already is left
   * alone (`duplicate`). A failed enqueue is recorded and handed back, to be thrown once the
   * turn has committed.
   */
  async function enqueueUnlessBusy(tx: pg.ClientBase, schedule: Schedule, tick: Date, jobId: string): Promise<TickResult | { failed: unknown }> {
    const name = schedule.name;
    const { source, stream } = scheduleTarget(schedule);
    if (!(await holdsTick(tx, name, tick, instance))) {
      log.info({ schedule: name, tick }, 'tick taken over by another scheduler meanwhile');
      return { status: 'duplicate', schedule: name, tick, jobId };
    }
    // Bounded like the enqueue: BullMQ's connection holds commands while Redis is away. A tick
    // failing here stays claimed and is decided again by the stale-tick sweep.
    const busy = await within(streamActivity(queue, redis, keys, source, stream, schedule.mode), REDIS_WAIT_MS, 'redis');
    // The tick's own job (an earlier attempt at this tick enqueued it).
    if (busy?.jobId === jobId) {
      await finishTick(tx, name, tick, { status: 'enqueued' }, instance);
      return { status: 'enqueued', schedule: name, tick, jobId };
    }
    if (busy) {
      const runId = await recordSkippedRun(tx, { source, stream, mode: schedule.mode, trigger: `schedule:${name}`, reason: busy.reason });
      await finishTick(tx, name, tick, { status: 'skipped', reason: busy.reason, runId }, instance);
      log.info({ schedule: name, tick, runId, reason: busy.reason }, 'schedule tick skipped: previous run still going');
      return { status: 'skipped', schedule: name, tick, jobId, reason: busy.reason, runId };
    }
    try {
      await enqueueSync(queue, { source, stream, mode: schedule.mode, trigger: `schedule:${name}` }, { ...syncJobOptions(config.pipelines), jobId });
    } catch (err) {
      await finishTick(tx, name, tick, { status: 'failed', reason: (err as Error).message }, instance);
      return { failed: err };
    }
    await finishTick(tx, name, tick, { status: 'enqueued' }, instance);
    log.info({ schedule: name, tick, jobId }, 'schedule tick enqueued');
    return { status: 'enqueued', schedule: name, tick, jobId };
  }

  async function tick(name: string, at: Date): Promise<TickResult> {
    const schedule = findSchedule(config, name);
    const unit = tickUnit(schedule.cron);
    const planned = new Date(Math.floor(at.getTime() / unit) * unit);
    const jobId = tickJobId(name, planned);
    if (!(await claimTick(pool, name, planned, jobId, instance))) {
      log.debug({ schedule: name, tick: planned }, 'tick owned by another scheduler');
      return { status: 'duplicate', schedule: name, tick: planned, jobId };
    }
    const result = await decide(schedule, planned, jobId);
    await pruneTicks(pool, name, keepDays).catch((err: unknown) => log.warn({ err, schedule: name }, 'could not prune old ticks'));
    return result;
  }

  async function retryStaleTicks(): Promise<TickResult[]> {
    lastSweep = Date.now();
    const enabled = new Map(config.schedules.filter((s) => s.enabled).map((s) => [s.name, s]));
    const results: TickResult[] = [];
    for (const stale of await staleTicks(pool, [...enabled.keys()], graceMs, windowMs)) {
      if (!(await retakeTick(pool, stale, instance))) continue;
      log.warn({ schedule: stale.schedule, tick: stale.tick, previous: stale.scheduler }, 'deciding a tick its scheduler left unfinished');
      // Its scheduler may have died after enqueueing: deciding again would find the tick's
      // own job busy on the stream and record the tick as skipped, though it runs.
      if (await within(queue.getJob(stale.jobId), REDIS_WAIT_MS, 'redis')) {
        await finishTick(pool, stale.schedule, stale.tick, { status: 'enqueued' }, instance);
        results.push({ status: 'enqueued', schedule: stale.schedule, tick: stale.tick, jobId: stale.jobId });
        continue;
      }
      results.push(await decide(enabled.get(stale.schedule)!, stale.tick, stale.jobId));
    }
    return results;
  }

  /** Every schedule's gap ticks are tried, whatever another's does; then the first failure is thrown. */
  async function runGapTicks(from: Date, to: Date): Promise<TickResult[]> {
    const results: TickResult[] = [];
    const failures: unknown[] = [];
    for (const s of config.schedules.filter((x) => x.enabled)) {
      for (const at of gapTicks(s.cron, s.timezone, from, to)) {
        log.info({ schedule: s.name, tick: at, timezone: s.timezone }, 'running the tick a daylight-saving gap skipped');
        await tick(s.name, at).then((r) => results.push(r), (err: unknown) => failures.push(err));
      }
      for (const at of repeatTicks(s.cron, s.timezone, from, to)) {
        log.info({ schedule: s.name, tick: at, timezone: s.timezone }, 'running a tick of the hour clocks going back repeat');
        await tick(s.name, at).then((r) => results.push(r), (err: unknown) => failures.push(err));
      }
    }
    if (failures.length > 0) throw failures[0];
    return results;
  }

  async function reapRuns(): Promise<number[]> {
    const ids = await reapAbandonedRuns(pool, abandonedRunMs);
    if (ids.length > 0) log.warn({ runIds: ids, silentForMs: abandonedRunMs }, 'runs left running by a stopped process marked failed (SYNC_RUN_ABANDONED)');
    await sendReaped(ids);
    return ids;
  }

  /**
   * Their process will never send their end, so the reaper does: otherwise sync_runs_current
   * shows them running for ever. A failed send is kept for the next sweep, not thrown: the
   * runs are failed in PostgreSQL, which is what the hub goes by.
   */
  async function sendReaped(ids: readonly number[]): Promise<void> {
    for (const id of ids) unsentRuns.add(id);
    if (unsentRuns.size === 0) return;
    for (const id of unsentRuns) {
      if (unsentRuns.size <= UNSENT_RUNS_KEPT) break;
      unsentRuns.delete(id);
    }
    const sending = [...unsentRuns];
    try {
      await sendRunStates(clickhouse, pool, sending);
      for (const id of sending) unsentRuns.delete(id);
    } catch (err) {
      log.warn({ err, runIds: sending }, 'abandoned runs not sent to ClickHouse sync_runs; trying again at the next sweep');
    }
  }

  function track(work: Promise<unknown>, what: Record<string, unknown>): Promise<void> {
    const p = work.then(
      () => undefined,
      (err: unknown) => log.error({ err, ...what }, 'schedule tick failed'),
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  }

  /** A cron task's tick (node-cron's noOverlap waits for it), and a look for stale ticks when due. */
  function tracked(name: string, at: Date): Promise<void> {
    sweepIfDue();
    return track(tick(name, at), { schedule: name, tick: at });
  }

  /**
   * A slot node-cron did not run because it was reached too late (past the tolerance, or
   * with a later slot already due): it emits `execution:missed` and nothing else, so the
   * tick runs from here; its claim keeps it to one job. Past the stale-tick window it would
   * not be decided again either: only logged.
   */
  function missed(name: string, at: Date): void {
    if (stopped) return;
    const lateMs = Date.now() - at.getTime();
    if (lateMs > windowMs) {
      log.warn({ schedule: name, tick: at, lateMs }, 'schedule tick missed: the process was too late for it');
      return;
    }
    log.warn({ schedule: name, tick: at, lateMs }, 'running a schedule tick the process was late for');
    void tracked(name, at);
  }

  function sweepIfDue(): void {
    if (stopped || Date.now() - lastSweep < sweepMs) return;
    void track(retryStaleTicks(), { stale: true });
    // The window moves on once its ticks are decided: a tick that could not even be claimed is tried again.
    const to = new Date();
    void track(runGapTicks(new Date(gapsCheckedTo), to).then(() => (gapsCheckedTo = Math.max(gapsCheckedTo, to.getTime()))), { dstGap: true });
    void track(reapRuns(), { abandonedRuns: true });
  }

  // node-cron logs through console by default; route it to ours.
  const cronLogger = {
    info: (m: string) => log.info(m),
    warn: (m: string) => log.warn(m),
    error: (m: string | Error, err?: Error) => log.error({ err: err ?? m }, typeof m === 'string' ? m : 'node-cron error'),
    debug: (m: string | Error) => log.debug(String(m)),
  };

  return {
    start() {
      if (stopped) throw new Error('scheduler was stopped');
      for (const s of config.schedules.filter((x) => x.enabled)) {
        const task = cron.schedule(s.cron, (ctx) => (stopped ? undefined : tracked(s.name, ctx.date)), {
          name: `junction:${s.name}`,
          timezone: s.timezone,
          noOverlap: true,
          // node-cron drops a slot reached over 1 s late (a GC pause, a CPU-heavy batch in a
          // `--role all` process); a tick is worth running as long as it is recent.
          missedExecutionTolerance: windowMs,
          logger: cronLogger,
        });
        task.on('execution:missed', (ctx) => missed(s.name, ctx.date));
        tasks.push(task);
      }
      gapsCheckedTo = Date.now();
      void track(retryStaleTicks(), { stale: true });
      void track(reapRuns(), { abandonedRuns: true });
      // Its own timer as well: with only nightly schedules no cron task fires for a day, and
      // a 03:00 tick whose enqueue failed would be past the window by the next one.
      sweepTimer = setInterval(sweepIfDue, sweepMs);
      sweepTimer.unref();
      return tasks.map((t) => t.name ?? t.id);
    },
    tick,
    retryStaleTicks,
    runGapTicks,
    reapAbandonedRuns: reapRuns,
    async stop() {
      stopped = true;
      clearInterval(sweepTimer);
      await Promise.all(tasks.map((t) => t.destroy()));
      tasks.length = 0;
      // A tick waiting on an unreachable service must not hold the process's shutdown.
      const waited = await Promise.race([Promise.allSettled([...inFlight]).then(() => true), sleep(STOP_WAIT_MS, undefined, { ref: false }).then(() => false)]);
      if (!waited) log.warn({ ticks: inFlight.size, waitedMs: STOP_WAIT_MS }, 'scheduler stopped with ticks still waiting; they are decided again by the next scheduler');
      await ownClickhouse?.close();
    },
  };
}
