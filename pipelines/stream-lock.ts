/**
 * At most one sync job per (source, stream) across every worker process: a Redis key set
 * with NX and an expiry, holding a token unique to the job attempt (`<job id>@<attempt
 * token>`). The holder refreshes it while it runs; a process that dies stops refreshing
 * and the key expires by itself. Refresh and release compare the token first (Lua, atomic),
 * so a worker that stalled past the expiry can never extend or delete a lock that another
 * worker took meanwhile — it finds out and stops before committing (`assertHeld`).
 */
import type { Redis } from 'ioredis';
import { JunctionError } from '../config/errors.js';

const REFRESH = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface StreamLock {
  readonly key: string;
  readonly token: string;
  /** Extends the expiry; false when the lock was lost (expired, taken by another job). */
  refresh(): Promise<boolean>;
  /** Throws SYNC_LOCK_LOST (retryable) unless this attempt still holds the lock. */
  assertHeld(): Promise<void>;
  /** Deletes the key if it is still ours. */
  release(): Promise<void>;
}

/** Takes the lock at `key` for `ttlMs`, or returns null when another job holds it. */
export async function acquireStreamLock(redis: Redis, key: string, token: string, ttlMs: number): Promise<StreamLock | null> {
  const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (ok !== 'OK') return null;
  return {
    key,
    token,
    refresh: async () => Number(await redis.eval(REFRESH, 1, key, token, String(ttlMs))) === 1,
    assertHeld: async () => {
      const holder = await redis.get(key);
      if (holder !== token) {
        throw new JunctionError('SYNC_LOCK_LOST', `lost the lock ${key} (now held by ${holder ?? 'nobody'}): this worker stalled past its expiry`, { retryable: true });
      }
    },
    release: async () => {
      await redis.eval(RELEASE, 1, key, token);
    },
  };
}

/** The job holding a stream's lock (the part of the token before `@`), or null. */
export async function streamLockHolder(redis: Redis, key: string): Promise<string | null> {
  const token = await redis.get(key);
  return token === null ? null : token.split('@')[0]!;
}
