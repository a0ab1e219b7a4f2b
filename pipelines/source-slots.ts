/**
 * A source's cap on jobs running at once (`pipelines.sources.<name>.max_jobs`), across every
 * worker: a sorted set of the running attempts, scored by the expiry of their lease. Taking
 * a slot drops expired leases first (a worker killed with its slot held frees it when the
 * lease runs out), then adds the attempt if the set is below the cap — in one Lua script, so
 * two workers can never both take the last slot.
 */
import type { Redis } from 'ioredis';

/** KEYS[1] set; ARGV: member, lease ms, cap. Redis' clock, so workers' clocks may differ. */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
  return 1
end
return 0`;

/** Extends the member's lease if it still has one. */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) < now then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1`;

export interface SourceSlot {
  /** Extends the lease; false when it had run out (the slot may be someone else's now). */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

/** Takes one of the source's `cap` slots for `member`, or returns null when all are taken. */
export async function acquireSourceSlot(redis: Redis, key: string, member: string, cap: number, leaseMs: number): Promise<SourceSlot | null> {
  const ok = Number(await redis.eval(ACQUIRE, 1, key, member, String(leaseMs), String(cap)));
  if (ok !== 1) return null;
  return {
    renew: async () => Number(await redis.eval(RENEW, 1, key, member, String(leaseMs))) === 1,
    release: async () => {
      await redis.zrem(key, member);
    },
  };
}

/** Attempts holding a slot of the source now (expired leases excluded). */
export async function sourceSlotsInUse(redis: Redis, key: string): Promise<string[]> {
  const now = Date.now();
  return redis.zrangebyscore(key, now, '+inf');
}
