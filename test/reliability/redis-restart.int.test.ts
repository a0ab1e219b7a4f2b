/**
 * Redis restarted mid-sync: a Redis server of the test's own (AOF on, `appendfsync
 * everysec`, as the stack runs it) is shut down while the worker loads batches and started
 * again on the same port and data folder. The sync completes and nothing is lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queuedSync, type QueuedSync } from '../helpers/queued-sync.js';
import { freePort } from '../helpers/queue-harness.js';
import { hashDiff, sourceHashes, tempDir, unifiedCounts, unifiedHashes } from '../helpers/sync-fixture.js';

const ROWS = 20_000;
let fx: QueuedSync;
let redisDir: string;
let port: number;
let server: ChildProcess | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startRedis(): Promise<void> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'everysec',
    '--dir', redisDir, '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  server = child;
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined); // refused until the server listens
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await probe.connect();
      // Loading the AOF answers LOADING; wait until it serves.
      if ((await probe.ping()) === 'PONG') break;
    } catch {
      probe.disconnect();
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server on ${port} did not start:\n${out}`);
    await sleep(100);
  }
  probe.disconnect();
}

/** SHUTDOWN as an operator's restart does it (the AOF is flushed), waiting for the exit. */
async function stopRedis(): Promise<void> {
  const child = server!;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
  server = undefined;
}

beforeAll(async () => {
  redisDir = tempDir('redis-restart');
  port = await freePort();
  await startRedis();
  fx = await queuedSync({ name: 'rel_redis', rows: ROWS, redisUrl: `redis://127.0.0.1:${port}/0`, pipelines: '{ batch_size: 500, attempts: 20, backoff_ms: 200 }' });
}, 180_000);

afterAll(async () => {
  await fx?.close();
  if (server) await stopRedis();
  fs.rmSync(redisDir, { recursive: true, force: true });
});

describe('Redis restarted mid-sync', () => {
  it('the sync completes and nothing is lost', async () => {
    await fx.startWorker();
    await fx.enqueue('redis-restart');
    const deadline = Date.now() + 120_000;
    while ((await fx.loaded()) < 3000) {
      if (Date.now() > deadline) throw new Error('the first batches did not load');
      await sleep(50);
    }
    await stopRedis();
    const atStop = await fx.loaded();
    console.log(`redis-restart: Redis shut down at ${atStop} of ${ROWS} records loaded, started again 2 s later`);
    await sleep(2000);
    await startRedis();
    expect(fs.existsSync(path.join(redisDir, 'appendonlydir'))).toBe(true);

    const end = await fx.waitForJob('redis-restart', 300_000);
    expect(end.state, end.state === 'failed' ? end.reason : '').toBe('completed');
    expect(atStop).toBeLessThan(ROWS);
    expect(await unifiedCounts(fx.hub.pool)).toEqual({ records: ROWS, orders: ROWS });
    const expected = await sourceHashes(fx.config);
    expect(hashDiff(expected, await unifiedHashes(fx.hub.pool))).toEqual([]);
    const [view] = await fx.ch.rows<{ n: string }>(`SELECT count() AS n FROM orders_current`);
    expect(view!.n).toBe(String(ROWS));
  }, 600_000);
});
