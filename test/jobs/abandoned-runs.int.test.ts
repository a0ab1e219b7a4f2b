/**
 * Runs left `running` by a killed process (an --inline sync, a replay, a worker that died
 * before its job knew the run's id): their process beats while it lives, and the scheduler
 * fails a run that stopped beating with SYNC_RUN_ABANDONED. Real PostgreSQL and Redis.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../config/log.js';
import type { ResolvedConfig } from '../../config/load.js';
import { createScheduler } from '../../jobs/scheduler.js';
import { countBatch, reapAbandonedRuns, runHeartbeat, startRun } from '../../pipelines/run-record.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';
import { configYaml, testConfig, testQueue, type TestQueue } from './fixture.js';

let db: ScratchDb;
let q: TestQueue;
let config: ResolvedConfig;

/** A run as its process left it: `running`, last heard of `silentS` seconds ago (null: a row from before heartbeats, by started_at). */
async function leftRun(silentS: number, heartbeat = true): Promise<number> {
  const run = await startRun(db.pool, 'shop_pg', 'accounts', 'incremental', 'cli');
  await db.pool.query(
    `UPDATE hub.sync_run SET started_at = now() - make_interval(secs => $2), heartbeat_at = CASE WHEN $3 THEN now() - make_interval(secs => $2) END WHERE id = $1`,
    [run.id, silentS, heartbeat],
  );
  return run.id;
}

async function run(id: number) {
  const res = await db.pool.query('SELECT status, error_code, error_message, finished_at FROM hub.sync_run WHERE id = $1', [id]);
  return res.rows[0];
}

beforeAll(async () => {
  db = await scratchDatabase('jobs_abandoned_runs');
  q = await testQueue('jobs-abandoned-runs');
  config = await testConfig(configYaml(''));
}, 120_000);

afterAll(async () => {
  await q?.close();
  await db?.close();
});

describe('abandoned runs', () => {
  it('fails running runs silent for longer than the limit, and only those', async () => {
    const killed = await leftRun(600);
    const beforeHeartbeats = await leftRun(600, false);
    const alive = await leftRun(5);
    const done = await leftRun(600);
    await db.pool.query(`UPDATE hub.sync_run SET status = 'succeeded', finished_at = now() WHERE id = $1`, [done]);

    expect((await reapAbandonedRuns(db.pool, 120_000)).sort((a, b) => a - b)).toEqual([killed, beforeHeartbeats]);
    expect(await run(killed)).toMatchObject({ status: 'failed', error_code: 'SYNC_RUN_ABANDONED', error_message: expect.stringMatching(/no sign of life since \d{4}-\d\d-\d\dT.*committed batches stay/) });
    expect((await run(killed)).finished_at).toBeInstanceOf(Date);
    expect(await run(alive)).toMatchObject({ status: 'running', error_code: null });
    expect(await run(done)).toMatchObject({ status: 'succeeded', error_code: null });
    expect(await reapAbandonedRuns(db.pool, 120_000)).toEqual([]);
  });

  it('a run whose process beats stays running', async () => {
    const id = await leftRun(600);
    const stop = runHeartbeat(db.pool, id, (err) => { throw err; }, 50);
    try {
      for (let i = 0; i < 100; i++) {
        const { rows } = await db.pool.query(`SELECT heartbeat_at > now() - interval '10 seconds' AS fresh FROM hub.sync_run WHERE id = $1`, [id]);
        if (rows[0].fresh) break;
        await sleep(20);
      }
      expect(await reapAbandonedRuns(db.pool, 120_000)).toEqual([]);
      expect((await run(id)).status).toBe('running');
    } finally {
      stop();
    }
  });

  it('a committed batch beats at the time it counts, not when its transaction began (a long batch is not a silent run)', async () => {
    const id = await leftRun(600);
    const tx = await db.pool.connect();
    try {
      await tx.query('BEGIN');
      await tx.query('SELECT pg_sleep(1.5)');
      await countBatch(tx, id, 10, 10, 0);
      const { rows } = await tx.query<{ lag: number }>('SELECT extract(epoch FROM clock_timestamp() - heartbeat_at)::float8 AS lag FROM hub.sync_run WHERE id = $1', [id]);
      await tx.query('COMMIT');
      expect(rows[0]!.lag).toBeLessThan(1);
    } finally {
      tx.release();
    }
  });

  it('the scheduler fails them when it starts (and then on its sweep timer)', async () => {
    const killed = await leftRun(60);
    const s = createScheduler({ config, pool: db.pool, queue: q.queue, redis: q.redis, log: silentLogger, keys: q.keys, abandonedRunMs: 30_000 });
    try {
      s.start();
      for (let i = 0; i < 100 && (await run(killed)).status === 'running'; i++) await sleep(50);
      expect(await run(killed)).toMatchObject({ status: 'failed', error_code: 'SYNC_RUN_ABANDONED' });
    } finally {
      await s.stop();
    }
  });
});
