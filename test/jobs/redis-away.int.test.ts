/**
 * Ops reads while Redis is away: BullMQ's connection settings (`maxRetriesPerRequest: null`)
 * make ioredis queue commands until Redis is back, so an unbounded read would hang the
 * request. Redis "away" here is a port nothing listens on.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { createScheduler } from '../../jobs/scheduler.js';
import { runSchedule } from '../../jobs/schedules.js';
import { streamsStatus } from '../../jobs/streams-status.js';
import type { SyncJobData, SyncJobResult } from '../../pipelines/queue.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';
import { testConfig } from './fixture.js';

let db: ScratchDb;
let config: ResolvedConfig;
let away: Redis;
let queue: Queue<SyncJobData, SyncJobResult>;

beforeAll(async () => {
  db = await scratchDatabase('jobs_redis_away');
  config = await testConfig();
  away = new Redis({ host: '127.0.0.1', port: 1, maxRetriesPerRequest: null, retryStrategy: () => 200, lazyConnect: false });
  away.on('error', () => undefined);
  queue = new Queue<SyncJobData, SyncJobResult>('sync', { connection: away, prefix: 'junction-test-away' });
  queue.on('error', () => undefined);
}, 60_000);

afterAll(async () => {
  await Promise.race([queue?.close(), new Promise((r) => setTimeout(r, 1000))]);
  away?.disconnect();
  await db?.close();
});

describe('ops reads with Redis away', () => {
  it('the sources status fails with a clear message instead of waiting for Redis forever', async () => {
    await expect(streamsStatus({ config, pool: db.pool, redis: away })).rejects.toThrow('redis did not answer within 2000 ms');
  }, 15_000);
});

describe('ops writes with Redis away', () => {
  it('running a schedule fails with JOB_ENQUEUE_FAILED instead of waiting for Redis forever', async () => {
    await expect(runSchedule(config, queue, 'accounts-every-minute', 'ops')).rejects.toMatchObject({ code: 'JOB_ENQUEUE_FAILED', message: expect.stringContaining('did not take the job within 5000 ms') });
  }, 15_000);

  it('a schedule tick fails instead of hanging, and the scheduler stops', async () => {
    const s = createScheduler({ config, pool: db.pool, queue, redis: away, log: silentLogger, instance: 'away:1', clickhouse: undefined });
    try {
      await expect(s.tick('accounts-every-minute', new Date(Date.now() + 86_400_000))).rejects.toThrow('redis did not answer within 5000 ms');
    } finally {
      await s.stop();
    }
  }, 20_000);
});
