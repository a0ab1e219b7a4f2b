/**
 * The schedules as ops see and steer them, shared by `junction schedules …` and the ops API:
 * list (next run, last tick, last run, paused), run now, pause, resume. Pause state lives in
 * PostgreSQL (jobs/schedule-state.ts), so it holds across restarts and for every scheduler.
 */
import type { Queue } from 'bullmq';
import type pg from 'pg';
import { JunctionError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import type { ScheduleConfig } from '../config/schema.js';
import { enqueueSync, type SyncJobData, type SyncJobResult } from '../pipelines/queue.js';
import { syncJobOptions } from '../pipelines/job-options.js';
import { nextTick } from './dst-gaps.js';
import { lastRuns, type RunView } from './runs.js';
import { within } from './timeout.js';
import { lastTicks, readPauseStates, setPaused, type PauseState, type TickStatus } from './schedule-state.js';

export type Schedule = ResolvedConfig['schedules'][number];

export interface ScheduleView {
  name: string;
  /** `source.stream` */
  sync: string;
  mode: ScheduleConfig['mode'];
  cron: string;
  timezone: string;
  /** `enabled:` in the config; a disabled schedule never ticks. */
  enabled: boolean;
  paused: boolean;
  pausedAt: string | null;
  pausedBy: string | null;
  /**
   * Next tick (ISO), null when disabled: node-cron's next run, or the end of a daylight-saving
   * gap before it that swallows a tick (the scheduler runs that tick then). Paused schedules
   * still show when they would tick.
   */
  nextRun: string | null;
  /** The latest tick and what it did; `jobState` is the queue's view of its job (when enqueued). */
  lastTick: { at: string; status: TickStatus; jobId: string | null; jobState: string | null; reason: string | null } | null;
  /** The stream's latest run (any trigger, skipped ticks left out). */
  lastRun: RunView | null;
}

/** The schedule called `name`, or JOB_UNKNOWN_SCHEDULE listing the declared ones. */
export function findSchedule(config: ResolvedConfig, name: string): Schedule {
  const found = config.schedules.find((s) => s.name === name);
  if (found) return found;
  const known = config.schedules.map((s) => s.name);
  throw new JunctionError('JOB_UNKNOWN_SCHEDULE', `no schedule named ${JSON.stringify(name)}; declared: ${known.length ? known.join(', ') : '(none)'}`, {
    where: { file: config.file, path: 'schedules' },
  });
}

/** The stream a schedule syncs. */
export function scheduleTarget(schedule: Schedule): { source: string; stream: string } {
  const [source, stream] = schedule.sync.split('.') as [string, string];
  return { source, stream };
}

export interface ScheduleDeps {
  config: ResolvedConfig;
  pool: pg.Pool;
  /** When given, the list shows the queue state of each last tick's job. */
  queue?: Queue<SyncJobData, SyncJobResult>;
}

async function jobState(queue: Queue<SyncJobData, SyncJobResult> | undefined, jobId: string | null): Promise<string | null> {
  if (!queue || !jobId) return null;
  // The listing is PostgreSQL's; a Redis that does not answer only hides the job state.
  return within(queue.getJobState(jobId), 2000, 'redis').catch(() => null);
}

/** Every schedule of the config with its state, in config order. */
export async function listSchedules(deps: ScheduleDeps): Promise<ScheduleView[]> {
  const { config, pool, queue } = deps;
  const names = config.schedules.map((s) => s.name);
  const [pauses, ticks, runs] = await Promise.all([
    readPauseStates(pool, names),
    lastTicks(pool, names),
    lastRuns(pool, config.schedules.map(scheduleTarget)),
  ]);
  return Promise.all(
    config.schedules.map(async (s): Promise<ScheduleView> => {
      const pause = pauses.get(s.name) as PauseState;
      const tick = ticks.get(s.name);
      return {
        name: s.name,
        sync: s.sync,
        mode: s.mode,
        cron: s.cron,
        timezone: s.timezone,
        enabled: s.enabled,
        paused: pause.paused,
        pausedAt: pause.pausedAt?.toISOString() ?? null,
        pausedBy: pause.pausedBy,
        nextRun: s.enabled ? (nextTick(s.cron, s.timezone)?.toISOString() ?? null) : null,
        lastTick: tick
          ? { at: tick.tick.toISOString(), status: tick.status, jobId: tick.jobId, jobState: tick.status === 'enqueued' ? await jobState(queue, tick.jobId) : null, reason: tick.reason }
          : null,
        lastRun: runs.get(s.sync) ?? null,
      };
    }),
  );
}

/**
 * Enqueues the schedule's sync now (whether paused or not: ops asked for it). The worker
 * runs one job per stream at a time, so a run while another is going waits behind it.
 */
export async function runSchedule(
  config: ResolvedConfig,
  queue: Queue<SyncJobData, SyncJobResult>,
  name: string,
  trigger: string,
): Promise<{ jobId: string; data: SyncJobData }> {
  const schedule = findSchedule(config, name);
  const data: SyncJobData = { ...scheduleTarget(schedule), mode: schedule.mode, trigger };
  try {
    const job = await enqueueSync(queue, data, syncJobOptions(config.pipelines));
    return { jobId: String(job.id), data };
  } catch (err) {
    throw new JunctionError('JOB_ENQUEUE_FAILED', `could not enqueue ${schedule.sync} for schedule ${name}: ${(err as Error).message}`, {
      cause: err,
      retryable: true,
      where: { source: data.source },
    });
  }
}

/** Pauses or resumes a declared schedule; `by` is recorded (`cli:<user>`, `ops-api`). */
export async function setSchedulePaused(config: ResolvedConfig, pool: pg.Pool, name: string, paused: boolean, by: string): Promise<PauseState> {
  findSchedule(config, name);
  return setPaused(pool, name, paused, by);
}
