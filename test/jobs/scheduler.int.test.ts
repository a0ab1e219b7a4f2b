/**
 * The scheduler against the real Redis and a scratch PostgreSQL database: one tick gives one
 * job across scheduler processes (even after the job left the queue), a tick is skipped and
 * recorded while the stream is busy, and a pause holds across scheduler restarts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../config/log.js';
import type { ResolvedConfig } from '../../config/load.js';
import { enqueueSync, SYNC_QUEUE } from '../../pipelines/queue.js';
import { createScheduler, tickJobId, type Scheduler, type TickResult } from '../../jobs/scheduler.js';
import { claimTick, finishTick } from '../../jobs/schedule-state.js';
import { setSchedulePaused } from '../../jobs/schedules.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';
import { configYaml, testConfig, testQueue, type TestQueue } from './fixture.js';

let db: ScratchDb;
let q: TestQueue;
let config: ResolvedConfig;
const started: Scheduler[] = [];

function scheduler(instance: string, withConfig: ResolvedConfig = config): Scheduler {
  const s = createScheduler({ config: withConfig, pool: db.pool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys, instance });
  started.push(s);
  return s;
}

// Tick times a day ahead (older tick rows are pruned after 30 days), at minute `m` of that hour, plus `ms`.
const BASE = Math.floor(Date.now() / 3_600_000) * 3_600_000 + 86_400_000;
const at = (m: number, ms = 0) => new Date(BASE + m * 60_000 + ms);

async function ticks(schedule: string) {
  const res = await db.pool.query('SELECT tick, status, job_id, run_id, reason, scheduler FROM hub.schedule_tick WHERE schedule = $1 ORDER BY tick', [schedule]);
  return res.rows;
}

beforeAll(async () => {
  db = await scratchDatabase('jobs_scheduler');
  q = await testQueue('jobs-scheduler');
  config = await testConfig();
}, 120_000);

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
  await q.queue.obliterate({ force: true });
  await db.pool.query('TRUNCATE hub.schedule_tick, hub.schedule_state, hub.sync_run CASCADE');
});

afterAll(async () => {
  await q?.close();
  await db?.close();
});

describe('scheduler ticks', () => {
  it('two schedulers on the same tick enqueue one job, with the deterministic id', async () => {
    const tick = at(0, 17_250);
    const [a, b] = await Promise.all([scheduler('a:1').tick('accounts-every-minute', tick), scheduler('b:2').tick('accounts-every-minute', tick)]);
    expect([a.status, b.status].sort()).toEqual(['duplicate', 'enqueued']);
    const minute = at(0);
    expect(a.jobId).toBe(`schedule:accounts-every-minute:${minute.getTime()}`);
    expect(b.jobId).toBe(a.jobId);
    const jobs = await q.queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
    expect(jobs.map((j) => j.id)).toEqual([a.jobId]);
    expect(jobs[0]!.data).toEqual({ source: 'shop_pg', stream: 'accounts', mode: 'incremental', trigger: 'schedule:accounts-every-minute' });
    const rows = await ticks('accounts-every-minute');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'enqueued', job_id: a.jobId });
  });

  it('a late scheduler cannot re-add a tick whose job already completed and left the queue', async () => {
    const tick = at(1);
    expect((await scheduler('a:1').tick('accounts-every-minute', tick)).status).toBe('enqueued');
    await q.queue.remove(tickJobId('accounts-every-minute', tick));
    expect(await q.queue.count()).toBe(0);
    expect((await scheduler('late:3').tick('accounts-every-minute', tick)).status).toBe('duplicate');
    expect(await q.queue.count()).toBe(0);
  });

  it('skips a tick while a previous job of the stream waits, and records it as a skipped run', async () => {
    const s = scheduler('a:1');
    const first = await s.tick('accounts-every-minute', at(2));
    expect(first.status).toBe('enqueued');
    const second = await s.tick('accounts-every-minute', at(3));
    expect(second).toMatchObject({ status: 'skipped' });
    if (second.status !== 'skipped') throw new Error('unreachable');
    expect(second.reason).toContain(first.jobId);
    expect(await q.queue.count()).toBe(1);
    const run = await db.pool.query('SELECT source, stream, mode, status, trigger, error_code FROM hub.sync_run WHERE id = $1', [second.runId]);
    expect(run.rows[0]).toEqual({ source: 'shop_pg', stream: 'accounts', mode: 'incremental', status: 'skipped', trigger: 'schedule:accounts-every-minute', error_code: 'JOB_TICK_SKIPPED' });
    const rows = await ticks('accounts-every-minute');
    expect(rows.map((r) => r.status)).toEqual(['enqueued', 'skipped']);
    expect(Number(rows[1].run_id)).toBe(second.runId);
  });

  it('ticks of one stream deciding at once (late slots run together) enqueue one job; the rest are skipped', async () => {
    const s = scheduler('a:1');
    const results = await Promise.all([10, 11, 12, 13, 14, 15].map((m) => s.tick('accounts-every-minute', at(m))));
    expect(results.map((r) => r.status).sort()).toEqual(['enqueued', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(await q.queue.count()).toBe(1);
  });

  it('so do ticks of one stream deciding at once in two schedulers', async () => {
    const [a, b] = [scheduler('a:1'), scheduler('b:2')];
    const results = await Promise.all([20, 21, 22, 23].map((m) => (m % 2 ? a : b).tick('accounts-every-minute', at(m))));
    expect(results.map((r) => r.status).sort()).toEqual(['enqueued', 'skipped', 'skipped', 'skipped']);
    expect(await q.queue.count()).toBe(1);
  });

  it('skips a tick while a job of the stream is active (taken by a worker)', async () => {
    const other = await q.queue.add('shop_pg.accounts', { source: 'shop_pg', stream: 'accounts', mode: 'full', trigger: 'cli' });
    const worker = new Worker(SYNC_QUEUE, null, { connection: q.redis.duplicate(), prefix: q.prefix });
    try {
      const job = await worker.getNextJob('test-token');
      expect(job?.id).toBe(other.id);
      expect(await q.queue.getJobState(other.id!)).toBe('active');
      const r = await scheduler('a:1').tick('accounts-every-minute', at(4));
      expect(r).toMatchObject({ status: 'skipped' });
      if (r.status === 'skipped') expect(r.reason).toBe(`job ${other.id} of shop_pg.accounts is still active`);
      // another stream is not held up
      expect((await scheduler('a:1').tick('addresses-nightly', at(4))).status).toBe('enqueued');
    } finally {
      await worker.close(true);
    }
  });

  it('enqueues a full tick while an incremental job of the stream waits or holds the lock (the lock serializes them)', async () => {
    const incremental = await q.queue.add('shop_pg.addresses', { source: 'shop_pg', stream: 'addresses', mode: 'incremental', trigger: 'cli' });
    await q.redis.set(q.keys.streamLock('shop_pg', 'addresses'), incremental.id!, 'PX', 60_000);
    try {
      const r = await scheduler('a:1').tick('addresses-nightly', at(6));
      expect(r.status).toBe('enqueued');
      expect((await q.queue.getJob(r.jobId))?.data.mode).toBe('full');
      // The next full tick finds the full job and is skipped.
      expect((await scheduler('a:1').tick('addresses-nightly', at(7))).status).toBe('skipped');
    } finally {
      await q.redis.del(q.keys.streamLock('shop_pg', 'addresses'));
    }
  });

  it('skips a tick while a worker holds the stream lock', async () => {
    await q.redis.set(q.keys.streamLock('shop_pg', 'accounts'), 'job-42', 'PX', 60_000);
    try {
      const r = await scheduler('a:1').tick('accounts-every-minute', at(5));
      expect(r).toMatchObject({ status: 'skipped' });
      if (r.status === 'skipped') expect(r.reason).toContain('job-42');
      expect(await q.queue.count()).toBe(0);
    } finally {
      await q.redis.del(q.keys.streamLock('shop_pg', 'accounts'));
    }
  });

  it('a pause holds across scheduler restarts, and resume lets the next tick enqueue', async () => {
    await setSchedulePaused(config, db.pool, 'accounts-every-minute', true, 'test');
    const first = scheduler('a:1');
    expect((await first.tick('accounts-every-minute', at(6))).status).toBe('paused');
    await first.stop();
    // a new process: nothing in memory carries the pause
    const restarted = createScheduler({ config, pool: db.pool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys, instance: 'a:2' });
    started.push(restarted);
    expect((await restarted.tick('accounts-every-minute', at(7))).status).toBe('paused');
    expect(await q.queue.count()).toBe(0);
    expect((await ticks('accounts-every-minute')).map((r) => r.status)).toEqual(['paused', 'paused']);
    await setSchedulePaused(config, db.pool, 'accounts-every-minute', false, 'test');
    expect((await restarted.tick('accounts-every-minute', at(8))).status).toBe('enqueued');
  });

  it('refuses an unknown schedule with JOB_UNKNOWN_SCHEDULE naming the known ones', async () => {
    await expect(scheduler('a:1').tick('nope', new Date())).rejects.toMatchObject({
      code: 'JOB_UNKNOWN_SCHEDULE',
      message: expect.stringContaining('accounts-every-minute, addresses-nightly, accounts-off'),
    });
  });
});

describe('ticks left unfinished', () => {
  const recent = () => new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);

  it('a tick claimed by a scheduler that died before enqueueing is taken over and enqueued once', async () => {
    const tick = recent();
    const jobId = tickJobId('accounts-every-minute', tick);
    await claimTick(db.pool, 'accounts-every-minute', tick, jobId, 'dead:1');
    // Within the grace period the claim is left to its owner.
    expect(await scheduler('b:2').retryStaleTicks()).toEqual([]);
    // The dead scheduler's claim ages past a grace of a minute; the claim the first taker
    // makes does not (with no grace at all, the second taker could take the first's over).
    await db.pool.query(`UPDATE hub.schedule_tick SET created_at = now() - interval '5 minutes' WHERE job_id = $1`, [jobId]);
    const take = () => createScheduler({ config, pool: db.pool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys, instance: 'b:2', staleTickGraceMs: 60_000 });
    const [first, second] = await Promise.all([take().retryStaleTicks(), take().retryStaleTicks()]);
    expect([...first, ...second]).toEqual([{ status: 'enqueued', schedule: 'accounts-every-minute', tick, jobId }]);
    expect(await ticks('accounts-every-minute')).toMatchObject([{ status: 'enqueued', job_id: jobId, scheduler: 'b:2' }]);
    expect(await q.queue.getJob(jobId)).toBeDefined();
    expect(await q.queue.count()).toBe(1);
  });

  it.each([
    ['idle', 'enqueued', 0],
    ['busy with another job', 'skipped', 1],
  ] as const)('a scheduler only slow past the grace, whose tick another took over (stream %s), leaves the tick and its runs to the other', async (_state, outcome, skippedRuns) => {
    const tick = recent();
    const jobId = tickJobId('accounts-every-minute', tick);
    if (skippedRuns) await q.queue.add('shop_pg.accounts', { source: 'shop_pg', stream: 'accounts', mode: 'incremental', trigger: 'cli' });
    // The slow scheduler's pause check takes 1.5 s: meanwhile the other takes its tick over.
    const slowPool = new Proxy(db.pool, {
      get(target, prop) {
        if (prop === 'query') {
          return async (...args: Parameters<typeof target.query>) => {
            if (String(args[0]).includes('hub.schedule_state')) await sleep(1_500);
            return (target.query as (...a: unknown[]) => unknown)(...args);
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const slow = createScheduler({ config, pool: slowPool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys, instance: 'slow:1' });
    const quick = createScheduler({ config, pool: db.pool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys, instance: 'quick:2', staleTickGraceMs: 0 });
    started.push(slow, quick);
    const slowTick = slow.tick('accounts-every-minute', tick);
    for (let i = 0; i < 50 && (await ticks('accounts-every-minute')).length === 0; i++) await sleep(20); // claimed
    expect((await quick.retryStaleTicks()).map((r) => r.status)).toEqual([outcome]);
    expect(await slowTick).toEqual({ status: 'duplicate', schedule: 'accounts-every-minute', tick, jobId });
    expect(await ticks('accounts-every-minute')).toMatchObject([{ status: outcome, scheduler: 'quick:2' }]);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM hub.sync_run WHERE status = 'skipped'`)).rows[0].n).toBe(skippedRuns);
    expect(await q.queue.count()).toBe(1);
  });

  it('a tick claimed by a scheduler that died after enqueueing is recorded as enqueued, not skipped by its own job', async () => {
    const tick = recent();
    const jobId = tickJobId('accounts-every-minute', tick);
    await claimTick(db.pool, 'accounts-every-minute', tick, jobId, 'dead:1');
    await enqueueSync(q.queue, { source: 'shop_pg', stream: 'accounts', mode: 'incremental', trigger: 'schedule:accounts-every-minute' }, { jobId });
    const take = createScheduler({ config, pool: db.pool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys, instance: 'b:2', staleTickGraceMs: 0 });
    expect(await take.retryStaleTicks()).toEqual([{ status: 'enqueued', schedule: 'accounts-every-minute', tick, jobId }]);
    expect(await ticks('accounts-every-minute')).toMatchObject([{ status: 'enqueued', job_id: jobId, scheduler: 'b:2' }]);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM hub.sync_run WHERE status = 'skipped'`)).rows[0].n).toBe(0);
    expect(await q.queue.count()).toBe(1);
  });

  it('a tick whose enqueue failed is decided again; old ones are left alone', async () => {
    const tick = recent();
    const old = new Date(tick.getTime() - 3_600_000);
    for (const t of [tick, old]) {
      await claimTick(db.pool, 'accounts-every-minute', t, tickJobId('accounts-every-minute', t), 'a:1');
      await finishTick(db.pool, 'accounts-every-minute', t, { status: 'failed', reason: 'Redis down' });
    }
    const results = await scheduler('a:1').retryStaleTicks();
    expect(results).toEqual([{ status: 'enqueued', schedule: 'accounts-every-minute', tick, jobId: tickJobId('accounts-every-minute', tick) }]);
    expect((await ticks('accounts-every-minute')).map((r) => r.status)).toEqual(['failed', 'enqueued']);
  });
});

describe('scheduler stale-tick sweep', () => {
  it('decides a failed tick again on its own timer, with no cron task firing (only a nightly schedule)', async () => {
    const nightly = await testConfig(configYaml(`schedules:\n  - { name: addresses-nightly, sync: shop_pg.addresses, mode: full, cron: "0 3 * * *", timezone: Asia/Shanghai }\n`));
    const s = createScheduler({ config: nightly, pool: db.pool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys, instance: 'n:1', sweepMs: 300, staleTickGraceMs: 0 });
    started.push(s);
    s.start();
    await sleep(400); // the start's own sweep is done: what follows is only the timer's
    const tick = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);
    await claimTick(db.pool, 'addresses-nightly', tick, tickJobId('addresses-nightly', tick), 'a:1');
    await finishTick(db.pool, 'addresses-nightly', tick, { status: 'failed', reason: 'Connection is closed.' });
    for (let i = 0; i < 50 && (await ticks('addresses-nightly'))[0]?.status !== 'enqueued'; i++) await sleep(100);
    expect((await ticks('addresses-nightly')).map((r) => r.status)).toEqual(['enqueued']);
    expect(await q.queue.getJob(tickJobId('addresses-nightly', tick))).toBeDefined();
  });
});

describe('scheduler daylight-saving gaps', () => {
  it('runs a tick the spring-forward gap swallows once, at the end of the gap; a schedule outside the gap runs nothing extra', async () => {
    const berlin = await testConfig(configYaml(`schedules:
  - { name: berlin-0230, sync: shop_pg.accounts, cron: "30 2 * * *", timezone: Europe/Berlin }
  - { name: berlin-0330, sync: shop_pg.addresses, cron: "30 3 * * *", timezone: Europe/Berlin }
`));
    const s = scheduler('dst:1', berlin);
    // Clocks went from 02:00 to 03:00 CET → CEST on 2027-03-28 at 01:00 UTC.
    const gapEnd = new Date('2027-03-28T01:00:00Z');
    const results = await s.runGapTicks(new Date('2027-03-27T12:00:00Z'), new Date('2027-03-28T12:00:00Z'));
    expect(results).toEqual([{ status: 'enqueued', schedule: 'berlin-0230', tick: gapEnd, jobId: tickJobId('berlin-0230', gapEnd) }]);
    expect(await q.queue.getJob(tickJobId('berlin-0230', gapEnd))).toBeDefined();
    // A second scheduler looking at the same hours finds the tick taken.
    const other = scheduler('dst:2', berlin);
    expect((await other.runGapTicks(new Date('2027-03-28T00:00:00Z'), new Date('2027-03-28T02:00:00Z'))).map((r) => r.status)).toEqual(['duplicate']);
    // No gap in the window: nothing.
    expect(await s.runGapTicks(new Date('2027-03-29T00:00:00Z'), new Date('2027-03-30T00:00:00Z'))).toEqual([]);
  });
});

describe('scheduler hours repeated by clocks going back', () => {
  it('runs an hourly schedule\'s ticks in both passes, each once, whichever pass node-cron fires; a nightly one runs once', async () => {
    const cfg = await testConfig(configYaml(`schedules:
  - { name: ny-hourly, sync: shop_pg.accounts, cron: "0 * * * *", timezone: America/New_York }
  - { name: ny-0130, sync: shop_pg.addresses, cron: "30 1 * * *", timezone: America/New_York }
  - { name: berlin-hourly, sync: shop_pg.addresses, cron: "0 * * * *", timezone: Europe/Berlin }
`));
    const s = scheduler('dst:1', cfg);
    const row = (r: TickResult) => [r.schedule, r.tick.toISOString(), r.status];
    const finished = async (schedule: string, tick: Date) => (await q.queue.getJob(tickJobId(schedule, tick)))?.remove();
    // 2027-11-07: 01:00 EDT is 05:00Z, 01:00 EST (the second pass) 06:00Z. West of UTC
    // node-cron fires the first pass itself: the sweep finds it taken and runs the second.
    const first = new Date('2027-11-07T05:00:00Z');
    expect((await s.tick('ny-hourly', first)).status).toBe('enqueued');
    await finished('ny-hourly', first);
    const ny = await s.runGapTicks(new Date('2027-11-07T04:00:00Z'), new Date('2027-11-07T08:00:00Z'));
    expect(ny.map(row)).toEqual([
      ['ny-hourly', '2027-11-07T05:00:00.000Z', 'duplicate'],
      ['ny-hourly', '2027-11-07T06:00:00.000Z', 'enqueued'],
    ]);
    // 2027-10-31: 02:00 CEST is 00:00Z, 02:00 CET 01:00Z. East of UTC node-cron fires (part
    // of) the second pass only: the first pass was silent before.
    const berlin = await s.runGapTicks(new Date('2027-10-30T23:30:00Z'), new Date('2027-10-31T00:30:00Z'));
    expect(berlin.map(row)).toEqual([['berlin-hourly', '2027-10-31T00:00:00.000Z', 'enqueued']]);
  });
});

describe('scheduler daylight-saving gaps when an enqueue fails', () => {
  it('still runs the other schedules\' gap ticks when one enqueue fails (a queue stand-in refuses that one add)', async () => {
    const berlin = await testConfig(configYaml(`schedules:
  - { name: berlin-a, sync: shop_pg.accounts, cron: "30 2 * * *", timezone: Europe/Berlin }
  - { name: berlin-b, sync: shop_pg.addresses, cron: "45 2 * * *", timezone: Europe/Berlin }
`));
    // Real Redis behind it; only the add of berlin-a's jobs is refused, as a Redis blip would.
    const refusing = new Proxy(q.queue, {
      get(target, prop) {
        if (prop === 'add') {
          return (name: string, data: unknown, opts?: { jobId?: string }) =>
            opts?.jobId?.startsWith('schedule:berlin-a:') ? Promise.reject(new Error('Connection is closed.')) : target.add(name as never, data as never, opts);
        }
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const s = createScheduler({ config: berlin, pool: db.pool, queue: refusing, redis: q.redis, log: silentLogger, keys: q.keys, instance: 'dst:3' });
    started.push(s);
    const gapEnd = new Date('2027-03-28T01:00:00Z');
    const err = await s.runGapTicks(new Date('2027-03-28T00:00:00Z'), new Date('2027-03-28T02:00:00Z')).catch((e: unknown) => e as { code?: string });
    expect(err).toMatchObject({ code: 'JOB_ENQUEUE_FAILED' });
    expect(await q.queue.getJob(tickJobId('berlin-b', gapEnd))).toBeDefined();
    // The refused tick is left failed, for the stale-tick sweep to decide again.
    expect((await ticks('berlin-a')).map((r) => r.status)).toEqual(['failed']);
  });
});

describe('scheduler cron tasks', () => {
  it('starts a node-cron task per enabled schedule, whose tick enqueues the job of its second (6-field cron)', async () => {
    const every = await testConfig(
      configYaml(`schedules:
  - { name: every-second, sync: shop_pg.accounts, cron: "* * * * * *" }
  - { name: never, sync: shop_pg.addresses, cron: "* * * * * *", enabled: false }
`),
    );
    const s = createScheduler({ config: every, pool: db.pool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys });
    started.push(s);
    expect(s.start()).toEqual(['junction:every-second']);
    let rows: Awaited<ReturnType<typeof ticks>> = [];
    for (let i = 0; i < 50 && !rows.some((r) => r.status === 'enqueued'); i++) {
      await sleep(100);
      rows = await ticks('every-second');
    }
    await s.stop();
    const enqueued = rows.find((r) => r.status === 'enqueued');
    expect(enqueued, 'a tick within 5 s').toBeDefined();
    expect(enqueued.tick.getUTCMilliseconds()).toBe(0);
    expect(enqueued.job_id).toBe(tickJobId('every-second', enqueued.tick));
    expect(await q.queue.getJob(enqueued.job_id)).toBeDefined();
    expect(await ticks('never')).toEqual([]);
  });

  /** Holds the event loop for `ms` (a GC pause, a CPU-heavy batch in the same process); when it started and ended. */
  function block(ms: number): { from: number; to: number } {
    const from = Date.now();
    while (Date.now() - from < ms) {
      // busy: no timer can fire
    }
    return { from, to: Date.now() };
  }

  async function lateScheduler(cron: string): Promise<Scheduler> {
    const late = await testConfig(configYaml(`schedules:\n  - { name: late, sync: shop_pg.accounts, cron: "${cron}" }\n`));
    const s = createScheduler({ config: late, pool: db.pool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys });
    started.push(s);
    s.start();
    return s;
  }

  it('runs a tick the event loop reached over a second late, once (node-cron would drop it)', async () => {
    await lateScheduler('*/5 * * * * *');
    await sleep(5_000 - (Date.now() % 5_000) - 300); // 300 ms before a slot
    const { from } = block(2_600);
    const slot = new Date(Math.ceil(from / 5_000) * 5_000);
    let rows: Awaited<ReturnType<typeof ticks>> = [];
    for (let i = 0; i < 60 && !rows.some((r) => r.tick.getTime() === slot.getTime()); i++) {
      await sleep(100);
      rows = await ticks('late');
    }
    expect(rows.filter((r) => r.tick.getTime() === slot.getTime())).toMatchObject([{ status: 'enqueued', job_id: tickJobId('late', slot) }]);
  });

  it('runs the ticks of every second the event loop was blocked across, each once (node-cron reports them missed)', async () => {
    const s = await lateScheduler('* * * * * *');
    await sleep(1_200);
    const { from, to } = block(3_000);
    const expected: number[] = [];
    for (let t = Math.ceil(from / 1_000) * 1_000; t <= Math.floor(to / 1_000) * 1_000; t += 1_000) expected.push(t);
    let seen = new Set<number>();
    for (let i = 0; i < 30 && !expected.every((t) => seen.has(t)); i++) {
      await sleep(100);
      seen = new Set((await ticks('late')).map((r) => r.tick.getTime() as number));
    }
    await s.stop();
    expect(expected.filter((t) => !seen.has(t)).map((t) => new Date(t).toISOString()), 'seconds without a tick').toEqual([]);
    const rows = await ticks('late');
    expect(new Set(rows.map((r) => r.tick.getTime())).size).toBe(rows.length);
    expect(rows.filter((r) => expected.includes(r.tick.getTime())).every((r) => ['enqueued', 'skipped'].includes(r.status))).toBe(true);
  });
});
