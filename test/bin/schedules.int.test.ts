/**
 * `junction schedules list | run | pause | resume`, run as a user would (a child process),
 * against a scratch hub database and a Redis database number of its own (the CLI takes
 * its services from JUNCTION_PG_URL / JUNCTION_REDIS_URL).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackSettings } from '../../config/env.js';
import { Worker } from 'bullmq';
import { QUEUE_PREFIX, SYNC_QUEUE, redisConnection, syncQueue, type SyncJobData } from '../../pipelines/queue.js';
import type { ScheduleView } from '../../jobs/schedules.js';
import { runCli } from '../helpers/cli.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';
import { writeConfig } from '../jobs/fixture.js';

/** A Redis database number only this file uses, so the real prefix can be used and emptied. */
const REDIS_DB = 11;
const redisUrl = `${stackSettings().services.redis.url.replace(/\/\d*$/, '')}/${REDIS_DB}`;
let db: ScratchDb;
let configFile: string;
const redis = redisConnection(redisUrl);
const queue = syncQueue(redis);

const cli = (...args: string[]) => runCli(['schedules', ...args, '--config', configFile], { JUNCTION_PG_URL: db.url, JUNCTION_REDIS_URL: redisUrl, JUNCTION_LOG_LEVEL: 'warn' });

async function list(): Promise<ScheduleView[]> {
  const r = await cli('list', '--json');
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { schedules: ScheduleView[] }).schedules;
}

beforeAll(async () => {
  db = await scratchDatabase('jobs_cli');
  configFile = writeConfig();
  await queue.obliterate({ force: true });
}, 120_000);

afterAll(async () => {
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  redis.disconnect();
  await db?.close();
  if (configFile) fs.rmSync(path.dirname(configFile), { recursive: true, force: true });
});

describe('junction schedules', () => {
  it('lists every schedule with target, mode, cron, next run and state', { timeout: 180_000 }, async () => {
    const askedAt = Date.now();
    const views = await list();
    const answeredAt = Date.now();
    expect(views.map((v) => [v.name, v.sync, v.mode, v.cron, v.timezone, v.enabled, v.paused])).toEqual([
      ['accounts-every-minute', 'shop_pg.accounts', 'incremental', '* * * * *', 'UTC', true, false],
      ['addresses-nightly', 'shop_pg.addresses', 'full', '0 3 * * *', 'Asia/Shanghai', true, false],
      ['accounts-off', 'shop_pg.accounts', 'incremental', '0 0 1 1 *', 'UTC', false, false],
    ]);
    // Every minute: the next minute after the moment the CLI looked, which lies between asking and
    // its answer (a clock read after a slow CLI could pass a next run the CLI rightly gave).
    const next = Date.parse(views[0]!.nextRun!);
    expect(next).toBeGreaterThan(askedAt - 1000);
    expect(next).toBeLessThanOrEqual(answeredAt + 61_000);
    expect(views[2]!.nextRun).toBeNull();
    const table = await cli('list');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+TARGET\s+MODE\s+CRON\s+NEXT RUN\s+LAST TICK\s+LAST RUN\s+PAUSED$/);
    expect(table.stdout).toMatch(/addresses-nightly\s+shop_pg\.addresses\s+full\s+0 3 \* \* \* \(Asia\/Shanghai\)/);
    expect(table.stdout).toMatch(/accounts-off .*disabled/);
  });

  it('run enqueues the sync now and prints the job id', { timeout: 180_000 }, async () => {
    const r = await cli('run', 'addresses-nightly');
    expect(r.code, r.stderr).toBe(0);
    const m = /enqueued shop_pg\.addresses \(full\) as job (\S+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const job = await queue.getJob(m![1]!);
    expect(job?.data).toEqual({ source: 'shop_pg', stream: 'addresses', mode: 'full', trigger: 'cli' });
    const json = await cli('run', 'accounts-every-minute', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ jobId: expect.any(String), data: { source: 'shop_pg', stream: 'accounts', mode: 'incremental' } });
  });

  it('pause is persisted and shown; resume clears it', { timeout: 240_000 }, async () => {
    const paused = await cli('pause', 'accounts-every-minute');
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/^accounts-every-minute: paused \(by cli:/);
    const views = await list();
    expect(views[0]).toMatchObject({ name: 'accounts-every-minute', paused: true, pausedBy: expect.stringMatching(/^cli:/) });
    const row = await db.pool.query('SELECT paused FROM hub.schedule_state WHERE name = $1', ['accounts-every-minute']);
    expect(row.rows).toEqual([{ paused: true }]);
    const resumed = await cli('resume', 'accounts-every-minute');
    expect(resumed.stdout.trim()).toBe('accounts-every-minute: resumed');
    expect((await list())[0]!.paused).toBe(false);
  });

  it.each([['run'], ['pause'], ['resume']])('%s of an unknown schedule fails with JOB_UNKNOWN_SCHEDULE listing the known ones', async (action) => {
    const r = await cli(action, 'no-such-schedule');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no schedule named "no-such-schedule"; declared: accounts-every-minute, addresses-nightly, accounts-off [JOB_UNKNOWN_SCHEDULE]');
  });

  it('run --wait prints the summary of the finished job, and fails with JOB_RUN_FAILED when the job failed', { timeout: 240_000 }, async () => {
    // Stands in for a sync worker: succeeds on addresses, fails on accounts.
    const worker = new Worker<SyncJobData>(
      SYNC_QUEUE,
      async (job) => {
        if (job.data.stream === 'accounts') throw new Error('CONN_UNREACHABLE: connect ECONNREFUSED');
        return { runId: 77, source: 'shop_pg', stream: 'addresses', mode: 'full', read: 12, loaded: 10, unchanged: 0, failed: 2, batches: 1, customersCreated: 0, merged: 0, checkpoint: null, durationMs: 1500 };
      },
      { connection: redisConnection(redisUrl), prefix: QUEUE_PREFIX },
    );
    try {
      const ok = await cli('run', 'addresses-nightly', '--wait', '--timeout', '60');
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/addresses-nightly: job \S+ finished: run 77 read 12, 10 loaded, 2 dead-lettered in 1\.5 s/);
      const bad = await cli('run', 'accounts-every-minute', '--wait', '--timeout', '60');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/failed: CONN_UNREACHABLE: connect ECONNREFUSED \[JOB_RUN_FAILED\]/);
    } finally {
      await worker.close();
    }
  });

  it('without Redis, list still lists (warning once, with the code) and run fails with STACK_NOT_RUNNING', { timeout: 180_000 }, async () => {
    const noRedis = { JUNCTION_PG_URL: db.url, JUNCTION_REDIS_URL: 'redis://:TopSecretRedisPw@127.0.0.1:1' };
    const down = 'Redis at redis://:***@127.0.0.1:1 does not answer (connect ECONNREFUSED 127.0.0.1:1): start the stack (junction stack up) or set JUNCTION_REDIS_URL';
    const listed = await runCli(['schedules', 'list', '--config', configFile], noRedis);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^NAME\s+TARGET/);
    expect(listed.stderr.trim()).toBe(`junction: warning: ${down}; job states are not shown [STACK_NOT_RUNNING]`);
    for (const wait of [[], ['--wait']]) {
      const ran = await runCli(['schedules', 'run', 'addresses-nightly', ...wait, '--config', configFile], noRedis);
      expect(ran.code).toBe(1);
      expect(ran.stderr.trim()).toBe(`junction: ${down} [STACK_NOT_RUNNING]`);
    }
  });

  it('run --wait --timeout gives up with JOB_WAIT_TIMEOUT when no worker takes the job', { timeout: 180_000 }, async () => {
    const r = await cli('run', 'addresses-nightly', '--wait', '--timeout', '2');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did not finish within 2 s; it stays in the queue \(waiting\) \[JOB_WAIT_TIMEOUT\]/);
  });
});
