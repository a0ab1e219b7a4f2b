/**
 * The REST request gate's shared rate limit: two gates (as in two worker processes) counting
 * one source's `per_second` in Redis together cannot exceed it between them, where each
 * alone would let its own `per_second` through. The bound asserted is a lower bound on the
 * time the requests take, which a working limit guarantees and a per-process one misses.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestGate } from '../../connectors/rest/limiter.js';
import { redisUrlWithDb } from '../helpers/queue-harness.js';

const KEY = '{jt-limiter}:rate:tickets';
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(redisUrlWithDb(11));
  await redis.del(KEY);
});

afterAll(async () => {
  await redis.del(KEY);
  redis.disconnect();
});

async function fire(gates: RequestGate[], perGate: number): Promise<number[]> {
  const starts: number[] = [];
  await Promise.all(gates.flatMap((gate) => Array.from({ length: perGate }, () => gate.run(async () => void starts.push(performance.now())))));
  return starts.sort((a, b) => a - b);
}

describe('RequestGate with a shared (Redis) rate limit', () => {
  it('two gates on one key share per_second: 30 requests at 10/s span at least two windows', async () => {
    const shared = { redis, key: KEY };
    const gates = [0, 1].map(() => new RequestGate({ concurrency: 8, perSecond: 10, burst: 10, shared }));
    // Times count from before the first request, which is no later than the first window's
    // opening in Redis. (Counted from the first start instead, a first answer from Redis slowed
    // by a loaded machine moved the reference later than the window, and a correct limit failed.)
    const firedAt = performance.now();
    const starts = await fire(gates, 15);
    expect(starts).toHaveLength(30);
    // 10 per one-second window: the 21st request cannot start before the third window.
    expect(starts[29]! - firedAt).toBeGreaterThanOrEqual(1900);
    // The first window lets 10 through, not 10 per gate.
    const inFirstSecond = starts.filter((t) => t - firedAt < 900).length;
    expect(inFirstSecond).toBeLessThanOrEqual(10);
  }, 30_000);
});
