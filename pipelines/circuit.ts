/**
 * A source's circuit breaker, shared by every worker process through a Redis hash
 * (`redisKeys.circuit(source)`). opossum keeps its state in one process, which would let
 * each worker hammer a dead source on its own schedule; this is the same closed → open →
 * half-open machine with its state in Redis and each transition one Lua script.
 *
 * What counts: each failed *attempt* of a job whose error is the source's fault (a `CONN_*`
 * code: unreachable, timeouts, refused credentials; see classify-error.ts), in a row, across
 * the source's jobs. Counting attempts rather than jobs that exhausted their retries opens
 * the circuit within one job's retry schedule instead of after minutes of backoff. Any
 * committed batch of the source (or a job ending cleanly) closes it and resets the count.
 *
 * While open, the source's jobs do not run: the worker delays them until `next_probe_at`
 * (they wait in the delayed set, no attempt used). Then one job is admitted as the probe
 * (half-open, leased so a probe whose worker died is replaced); the others keep waiting.
 * The probe committing a batch closes the circuit; its failure re-opens it for `open_ms`.
 *
 * Hash fields: state (closed|open|half_open), failures, code, reason, last_failure_at,
 * opened_at, next_probe_at, probe, probe_until (times in ms since the epoch, Redis' clock).
 */
import type { Redis } from 'ioredis';
import { redisKeys } from './queue.js';

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** ARGV: attempt token, probe lease ms. Returns {admitted, state, retry_at}. */
const ADMIT = `${NOW}
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'closed' then return {1, 'closed', 0} end
if state == 'open' then
  local next_probe = tonumber(redis.call('HGET', KEYS[1], 'next_probe_at') or '0')
  if now < next_probe then return {0, 'open', next_probe} end
  redis.call('HSET', KEYS[1], 'state', 'half_open', 'probe', ARGV[1], 'probe_until', now + tonumber(ARGV[2]))
  return {1, 'half_open', 0}
end
local deadline = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if redis.call('HGET', KEYS[1], 'probe') == ARGV[1] or now >= deadline then
  redis.call('HSET', KEYS[1], 'state', 'half_open', 'probe', ARGV[1], 'probe_until', now + tonumber(ARGV[2]))
  return {1, 'half_open', 0}
end
return {0, 'half_open', deadline}`;

/** ARGV: threshold, open ms, code, reason. Returns 1 when this failure opened the circuit. */
const FAILURE = `${NOW}
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'code', ARGV[3], 'reason', ARGV[4], 'last_failure_at', now)
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'half_open' or (state == 'closed' and failures >= tonumber(ARGV[1])) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', now, 'next_probe_at', now + tonumber(ARGV[2]))
  redis.call('HDEL', KEYS[1], 'probe', 'probe_until')
  return 1
end
if not redis.call('HGET', KEYS[1], 'state') then redis.call('HSET', KEYS[1], 'state', 'closed') end
return 0`;

/** Closes the circuit; a no-op (no write) when it is closed with no failures counted. */
const SUCCESS = `
local state = redis.call('HGET', KEYS[1], 'state')
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
if (not state or state == 'closed') and failures == 0 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', 0)
return 1`;

export type CircuitState = 'closed' | 'open' | 'half_open';

/** Where the circuit keys live (tests use their own prefix). */
export interface CircuitKeys {
  circuit(source: string): string;
}

export interface CircuitSettings {
  /** Consecutive failed attempts that open the circuit (config pipelines.circuit.failures). */
  failures: number;
  /** How long it stays open before a probe (config pipelines.circuit.open_ms). */
  openMs: number;
  /** How long a probe may run before another job may probe instead. @defaultValue 60000 */
  probeLeaseMs?: number;
}

export type Admission = { admitted: true; probe: boolean } | { admitted: false; state: CircuitState; retryAt: number };

/** Whether a job attempt (`token`) of `source` may run now. */
export async function admitToCircuit(redis: Redis, source: string, token: string, settings: CircuitSettings, keys: CircuitKeys = redisKeys): Promise<Admission> {
  const [admitted, state, retryAt] = (await redis.eval(ADMIT, 1, keys.circuit(source), token, String(settings.probeLeaseMs ?? 60_000))) as [number, CircuitState, number];
  return admitted === 1 ? { admitted: true, probe: state === 'half_open' } : { admitted: false, state, retryAt: Number(retryAt) };
}

/** Counts a failed attempt that was the source's fault; true when it opened the circuit. */
export async function recordCircuitFailure(
  redis: Redis,
  source: string,
  failure: { code: string; message: string },
  settings: CircuitSettings,
  keys: CircuitKeys = redisKeys,
): Promise<boolean> {
  const reason = failure.message.slice(0, 500);
  const opened = await redis.eval(FAILURE, 1, keys.circuit(source), String(settings.failures), String(settings.openMs), failure.code, reason);
  return Number(opened) === 1;
}

/** The source answered: close the circuit (cheap when it is already closed). */
export async function recordCircuitSuccess(redis: Redis, source: string, keys: CircuitKeys = redisKeys): Promise<void> {
  await redis.eval(SUCCESS, 1, keys.circuit(source));
}

/** A source's circuit as ops see it. */
export interface CircuitStatus {
  source: string;
  state: CircuitState;
  /** Failed attempts in a row. */
  failures: number;
  /** The last failure's code and message: why it opened, while it is open. */
  code: string | null;
  reason: string | null;
  openedAt: string | null;
  /** When a probe job may run (open), or when the running probe's lease ends (half-open). */
  nextProbeAt: string | null;
}

function iso(ms: string | undefined): string | null {
  return ms && /^\d+$/.test(ms) ? new Date(Number(ms)).toISOString() : null;
}

/** The circuit of `source`; a source that never failed has no hash: closed. */
export async function readCircuit(redis: Redis, source: string, keys: CircuitKeys = redisKeys): Promise<CircuitStatus> {
  const h = await redis.hgetall(keys.circuit(source));
  const state: CircuitState = h.state === 'open' || h.state === 'half_open' ? h.state : 'closed';
  return {
    source,
    state,
    failures: Number(h.failures ?? 0) || 0,
    code: h.code || null,
    reason: h.reason || null,
    openedAt: state === 'closed' ? null : iso(h.opened_at),
    nextProbeAt: state === 'open' ? iso(h.next_probe_at) : state === 'half_open' ? iso(h.probe_until) : null,
  };
}

/** The circuits of several sources (ops API, /metrics). */
export async function listCircuits(redis: Redis, sources: readonly string[], keys: CircuitKeys = redisKeys): Promise<Map<string, CircuitStatus>> {
  const list = await Promise.all(sources.map((s) => readCircuit(redis, s, keys)));
  return new Map(list.map((c) => [c.source, c]));
}
