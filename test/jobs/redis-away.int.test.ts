/**
 * Ops reads while Redis is away: BullMQ's connection settings (`maxRetriesPerRequest: null`)
 * make ioredis queue commands until Redis is back, so an unbounded read would hang the
 * request. Redis "away" here is a port nothing listens on.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../config/load.js';
import { streamsStatus } from '../../jobs/streams-status.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';
import { testConfig } from './fixture.js';

let db: ScratchDb;
let config: ResolvedConfig;
let away: Redis;

beforeAll(async () => {
  db = await scratchDatabase('jobs_redis_away');
  config = await testConfig();
  away = new Redis({ host: '127.0.0.1', port: 1, maxRetriesPerRequest: null, retryStrategy: () => 200, lazyConnect: false });
  away.on('error', () => undefined);
}, 60_000);

afterAll(async () => {
  away?.disconnect();
  await db?.close();
});

describe('ops reads with Redis away', () => {
  it('the sources status fails with a clear message instead of waiting for Redis forever', async () => {
    await expect(streamsStatus({ config, pool: db.pool, redis: away })).rejects.toThrow('redis did not answer within 2000 ms');
  }, 15_000);
});
