/**
 * Redis connections of the CLI commands. ioredis reports a failed connection twice: the
 * pending command rejects, and the client emits 'error', which without a listener prints
 * "[ioredis] Unhandled error event" and a stack on every retry. A client from here has a
 * listener, and a Redis that does not answer is one STACK_NOT_RUNNING error that names its
 * URL without the password.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { urlVariable } from '../config/env.js';
import type { JunctionError } from '../config/errors.js';
import { redact } from '../config/redact.js';
import { serviceNotAnswering } from './service-errors.js';

/** The error of a Redis at `url` that does not answer, `err` being the driver's reason. */
export function redisNotAnswering(url: string, err: unknown): JunctionError {
  const why = err instanceof Error ? err.message : String(err);
  return serviceNotAnswering(`Redis at ${url}`, why, urlVariable('redis'), err, (text) => redact(text));
}

/**
 * A client connected to `url`, or STACK_NOT_RUNNING when the first attempt fails (rather
 * than commands queued behind endless reconnects). Later failures reject the command that
 * meets them. By default one retry per command and a few reconnects, 200 ms apart.
 */
export async function connectRedis(url: string, options: RedisOptions = {}): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => (attempt > 3 ? null : 200),
    ...options,
  });
  // connect() rejects with a bare "Connection is closed."; the event carries the reason.
  let reason: Error | undefined;
  redis.on('error', (err: Error) => {
    reason = err;
  });
  try {
    await redis.connect();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw redisNotAnswering(url, reason ?? err);
  }
}
