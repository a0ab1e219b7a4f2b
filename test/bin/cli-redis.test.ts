/** The CLI's Redis connections: a Redis that does not answer is one coded error, no event noise. */
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stackSettings } from '../../config/env.js';
import { connectRedis } from '../../bin/cli-redis.js';
import { errorOf } from '../helpers/errors.js';

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

afterEach(() => vi.restoreAllMocks());

describe('connectRedis', () => {
  it('a Redis that does not answer is STACK_NOT_RUNNING with the reason, without its password or an unhandled error event', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const port = await closedPort();
    const err = await errorOf(connectRedis(`redis://:TopSecretRedisPw@127.0.0.1:${port}`));
    expect(err.code).toBe('STACK_NOT_RUNNING');
    expect(err.message).toBe(
      `Redis at redis://:***@127.0.0.1:${port} does not answer (connect ECONNREFUSED 127.0.0.1:${port}): start the stack (junction stack up) or set JUNCTION_REDIS_URL`,
    );
    // ioredis prints "[ioredis] Unhandled error event" through console.error when nobody listens.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(printed).not.toHaveBeenCalled();
  });

  it("connects to the stack's Redis", async () => {
    const redis = await connectRedis(stackSettings().services.redis.url);
    try {
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });
});
