/**
 * kill -9 of the worker process at random points of a 50,000-record sync, five times, a new
 * worker started after each: the sync completes, and the unified view holds exactly the
 * source (every key once, each with the payload hash of its source row) and ClickHouse's
 * view counts each order once. The kill points come from a seeded RNG; the seed is printed
 * (set JUNCTION_RELIABILITY_SEED to replay a run's kill points).
 */
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashDiff, SOURCE, STREAM, sourceHashes, unifiedCounts, unifiedHashes } from '../helpers/sync-fixture.js';
import { queuedSync, type QueuedSync } from '../helpers/queued-sync.js';
import { redisUrlWithDb } from '../helpers/queue-harness.js';
import type { WorkerProcess } from '../helpers/worker-process.js';

const ROWS = 50_000;
const KILLS = 5;
const BATCH = 500;
let fx: QueuedSync;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  fx = await queuedSync({ name: 'rel_kill', rows: ROWS, redisUrl: redisUrlWithDb(7), pipelines: `{ batch_size: ${BATCH}, worker_concurrency: 2, attempts: 20, backoff_ms: 200 }` });
}, 180_000);

afterAll(async () => {
  await fx?.close();
});

describe('a worker killed with SIGKILL mid-sync', () => {
  it(`${KILLS} kills at random points of a ${ROWS}-record sync: it completes with the view equal to the source`, async () => {
    const seed = process.env.JUNCTION_RELIABILITY_SEED ?? String(Date.now());
    console.log(`worker-kill seed ${seed} (JUNCTION_RELIABILITY_SEED=${seed} replays these kill points)`);
    const random = seedrandom(seed);
    let worker: WorkerProcess = await fx.startWorker();
    const current = () => [worker];
    await fx.enqueue('kill-test');

    // Kill points spread over the whole sync: a records-loaded mark drawn in each fifth of
    // the stream, then a random delay, so a kill lands anywhere in a batch (read, map,
    // resolve, load, ClickHouse insert, commit). Each waits for the restarted worker to have
    // committed a batch first, so every kill hits a running sync.
    const marks = Array.from({ length: KILLS }, (_, i) => Math.floor(((i + random() * 0.8) / KILLS) * ROWS * 0.8));
    const killedAt: number[] = [];
    for (const mark of marks) {
      const resumed = (await fx.loaded()) + BATCH;
      for (;;) {
        if ((await fx.loaded()) >= Math.max(mark, resumed)) break;
        const state = await (await fx.queue.getJob('kill-test'))?.getState();
        if (state === 'completed' || state === 'failed') throw new Error(`the sync ended (${state}) after ${killedAt.length} of ${KILLS} kills`);
        if (worker.exited) throw new Error(`worker exited by itself:\n${worker.output().slice(-3000)}`);
        await sleep(50);
      }
      await sleep(Math.floor(random() * 1000));
      await worker.kill();
      killedAt.push(await fx.loaded());
      worker = await fx.startWorker();
    }
    console.log(`worker-kill: killed at ${killedAt.join(', ')} records loaded`);

    const end = await fx.waitForJob('kill-test', 300_000, current);
    expect(end.state, end.state === 'failed' ? end.reason : '').toBe('completed');
    expect(killedAt).toHaveLength(KILLS);
    expect(killedAt.every((n) => n < ROWS)).toBe(true);

    const counts = await unifiedCounts(fx.hub.pool);
    expect(counts).toEqual({ records: ROWS, orders: ROWS });
    const expected = await sourceHashes(fx.config);
    expect(expected.size).toBe(ROWS);
    expect(hashDiff(expected, await unifiedHashes(fx.hub.pool))).toEqual([]);
    const dead = await fx.hub.pool.query('SELECT count(*)::int AS n FROM hub.dead_letter');
    expect(dead.rows[0].n).toBe(0);

    const [view] = await fx.ch.rows<{ n: string; keys: string }>(
      `SELECT count() AS n, uniqExact(source_key) AS keys FROM orders_current WHERE source = '${SOURCE}' AND stream = '${STREAM}'`,
    );
    expect(view).toEqual({ n: String(ROWS), keys: String(ROWS) });
    const [sent] = await fx.ch.rows<{ n: string }>(`SELECT count() AS n FROM orders WHERE source = '${SOURCE}'`);
    console.log(`worker-kill: ClickHouse received ${sent!.n} order rows for ${ROWS} orders (re-sent batches are versions of the same rows)`);
  }, 600_000);
});
