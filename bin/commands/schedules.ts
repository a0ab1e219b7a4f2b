/**
 * `junction schedules list | run <name> | pause <name> | resume <name>`: the config's
 * schedules with their next and last runs, a run now, and a pause that every scheduler
 * process honours (kept in PostgreSQL, so it survives restarts).
 */
import os from 'node:os';
import type { Command } from 'commander';
import { QueueEvents } from 'bullmq';
import type pg from 'pg';
import { stackSettings } from '../../config/env.js';
import { JunctionError, isJunctionError } from '../../config/errors.js';
import type { ResolvedConfig } from '../../config/load.js';
import { QUEUE_PREFIX, SYNC_QUEUE, redisConnection, syncQueue, type SyncJobResult } from '../../pipelines/queue.js';
import { listSchedules, runSchedule, setSchedulePaused, type ScheduleView } from '../../jobs/schedules.js';
import { assertJobsSchema } from '../../jobs/schedule-state.js';
import { connectRedis } from '../cli-redis.js';
import { loadCliConfig } from '../sources.js';
import { positiveInt } from '../options.js';
import { printJson } from '../json-output.js';
import { hubPool } from '../../sql/hub-connection.js';

interface Common {
  config?: string;
  json?: boolean;
}

const who = () => `cli:${os.userInfo().username}`;

async function withPool<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = hubPool(stackSettings().services.postgres.url, { max: 3 });
  try {
    await assertJobsSchema(pool);
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

/**
 * The sync queue on a short-lived connection that fails commands when Redis is away, instead
 * of queueing them forever (STACK_NOT_RUNNING at once when it does not answer).
 */
async function cliQueue() {
  const redis = await connectRedis(stackSettings().services.redis.url);
  const queue = syncQueue(redis);
  // BullMQ re-emits its connection's errors, and prints them when nobody listens; the command
  // that meets the failure rejects with it, and bin/cli.ts reports it with its code.
  queue.on('error', () => undefined);
  return {
    queue,
    close: async () => {
      await queue.close().catch(() => undefined);
      redis.disconnect();
    },
  };
}

const minute = (iso: string | null | undefined) => (iso ? `${iso.slice(0, 16).replace('T', ' ')}Z` : '—');

function printList(views: ScheduleView[]): void {
  if (views.length === 0) {
    console.log('no schedules in the config (schedules: in junction.yaml)');
    return;
  }
  const rows = views.map((v) => [
    v.name,
    v.sync,
    v.mode,
    `${v.cron} (${v.timezone})`,
    v.enabled ? minute(v.nextRun) : 'disabled',
    v.lastTick ? `${minute(v.lastTick.at)} ${v.lastTick.status}${v.lastTick.jobState ? ` (job ${v.lastTick.jobState})` : ''}` : '—',
    v.lastRun ? `#${v.lastRun.id} ${v.lastRun.status} ${minute(v.lastRun.finishedAt ?? v.lastRun.startedAt ?? v.lastRun.queuedAt)} (${v.lastRun.trigger})` : '—',
    v.paused ? `yes, by ${v.pausedBy ?? '?'} ${minute(v.pausedAt)}` : 'no',
  ]);
  const head = ['NAME', 'TARGET', 'MODE', 'CRON', 'NEXT RUN', 'LAST TICK', 'LAST RUN', 'PAUSED'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

async function runNow(config: ResolvedConfig, name: string, opts: Common & { wait?: boolean; timeout?: number }): Promise<void> {
  const { queue, close } = await cliQueue();
  let events: QueueEvents | undefined;
  // BullMQ does not close connections it was handed: they are closed here.
  const blocking = opts.wait ? redisConnection(stackSettings().services.redis.url) : undefined;
  try {
    if (blocking) {
      // Subscribed before the job exists, so its end cannot be missed.
      events = new QueueEvents(SYNC_QUEUE, { connection: blocking, prefix: QUEUE_PREFIX });
      await events.waitUntilReady();
    }
    const { jobId, data } = await runSchedule(config, queue, name, 'cli');
    if (!events) {
      if (opts.json) printJson({ jobId, data });
      else console.log(`${name}: enqueued ${data.source}.${data.stream} (${data.mode}) as job ${jobId}`);
      return;
    }
    if (!opts.json) console.log(`${name}: enqueued ${data.source}.${data.stream} (${data.mode}) as job ${jobId}; waiting for it to finish…`);
    const job = (await queue.getJob(jobId))!;
    let result: SyncJobResult;
    try {
      result = (await job.waitUntilFinished(events, opts.timeout ? opts.timeout * 1000 : undefined)) as SyncJobResult;
    } catch (err) {
      const state = await job.getState();
      if (state !== 'failed') {
        throw new JunctionError('JOB_WAIT_TIMEOUT', `job ${jobId} did not finish within ${opts.timeout} s; it stays in the queue (${state})`, { cause: err, details: { jobId } });
      }
      throw new JunctionError('JOB_RUN_FAILED', `job ${jobId} (${data.source}.${data.stream}) failed: ${(err as Error).message}`, { cause: err, where: { source: data.source }, details: { jobId } });
    }
    if (opts.json) printJson({ jobId, data, result });
    else console.log(`${name}: job ${jobId} finished: run ${result.runId} read ${result.read}, ${result.loaded} loaded, ${result.failed} dead-lettered in ${(result.durationMs / 1000).toFixed(1)} s`);
  } finally {
    await events?.close();
    await close();
    blocking?.disconnect();
  }
}

export function registerSchedules(program: Command): void {
  const cmd = program.command('schedules').description('list, run, pause and resume the scheduled syncs of the config');

  cmd
    .command('list')
    .description('every schedule: target, mode, cron, next run, last tick and run, paused')
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('--json', 'print JSON')
    .action(async (opts: Common) => {
      const config = await loadCliConfig(opts.config);
      // The listing is PostgreSQL's: without Redis it only lacks the job states, and says so.
      const redis = await cliQueue().catch((err: unknown) => {
        if (!isJunctionError(err)) throw err;
        console.error(`junction: warning: ${err.message}; job states are not shown [${err.code}]`);
        return undefined;
      });
      try {
        const views = await withPool((pool) => listSchedules({ config, pool, queue: redis?.queue }));
        if (opts.json) printJson({ schedules: views });
        else printList(views);
      } finally {
        await redis?.close();
      }
    });

  cmd
    .command('run')
    .argument('<name>', 'a schedule name from the config')
    .description("enqueue the schedule's sync now (trigger cli), whether paused or not; prints the job id")
    .option('--wait', 'wait until the job finished and print its summary (exit 1 when it failed)')
    .option('--timeout <sec>', 'with --wait: stop waiting after this many seconds (exit 1; the job stays queued)', positiveInt)
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: Common & { wait?: boolean; timeout?: number }) => {
      await runNow(await loadCliConfig(opts.config), name, opts);
    });

  for (const [action, paused] of [['pause', true], ['resume', false]] as const) {
    cmd
      .command(action)
      .argument('<name>', 'a schedule name from the config')
      .description(paused ? 'stop the schedule from enqueueing (ticks are recorded as paused) until resumed' : 'let a paused schedule enqueue again from its next tick')
      .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
      .option('--json', 'print JSON')
      .action(async (name: string, opts: Common) => {
        const config = await loadCliConfig(opts.config);
        const state = await withPool((pool) => setSchedulePaused(config, pool, name, paused, who()));
        if (opts.json) printJson({ name, ...state });
        else console.log(`${name}: ${state.paused ? `paused (by ${state.pausedBy})` : 'resumed'}`);
      });
  }
}
