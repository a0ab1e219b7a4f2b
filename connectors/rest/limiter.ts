/**
 * The per-source request gate: a concurrency cap and a token bucket (requests per second
 * with a burst), shared by every request of one connector — stream pages, checks and live
 * lookups alike.
 *
 * Libraries: `p-limit` for the cap and `limiter`'s `TokenBucket` for the rate, both
 * maintained and dependency-free. Bottleneck does both in one, but has had no release since
 * 2019; p-queue's `intervalCap` is a fixed window, which lets two bursts through back to
 * back at a window edge, where a token bucket does not.
 *
 * Across processes (sync workers), `per_second` must hold for the source as a whole: given
 * a Redis client, each request also takes a point from rate-limiter-flexible's
 * `RateLimiterRedis` under one key per source, queued by its `RateLimiterQueue`. Its Redis
 * windows are whole seconds (fixed windows), so the shared limit is `per_second` requests per
 * window; the local token bucket still smooths each process's bursts. If Redis fails, an
 * in-memory limiter of the same size stands in (the library's insurance limiter).
 */
import type { Redis } from 'ioredis';
import { TokenBucket } from 'limiter';
import pLimit, { type LimitFunction } from 'p-limit';
import { RateLimiterMemory, RateLimiterQueue, RateLimiterRedis } from 'rate-limiter-flexible';

/** Where the source's rate is counted for every process that reads it. */
export interface SharedRateLimit {
  redis: Redis;
  /** The source's counter key (the hub's `redisKeys.rateLimit(source)`). */
  key: string;
}

/** Options of {@link RequestGate}. */
export interface GateOptions {
  /** Requests allowed in flight at once. @defaultValue 1 */
  concurrency?: number;
  /** Sustained requests per second; none when absent. */
  perSecond?: number;
  /** Requests that may start at once after a quiet period. @defaultValue ceil(perSecond) */
  burst?: number;
  /** Also count `perSecond` in Redis, across every process. @defaultValue none: this process only */
  shared?: SharedRateLimit;
}

/**
 * The window in which every process counts `perSecond` under `shared.key` (the gateway's live
 * lookups take from it too). If Redis fails, an in-memory window of the same size stands in.
 */
export function sharedWindow(perSecond: number, shared: SharedRateLimit): RateLimiterRedis {
  // Points must be whole: below one request per second, the window grows instead.
  const duration = perSecond >= 1 ? 1 : Math.ceil(1 / perSecond);
  const points = Math.max(1, Math.floor(perSecond * duration));
  return new RateLimiterRedis({
    storeClient: shared.redis,
    keyPrefix: '',
    points,
    duration,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: '', points, duration }),
  });
}

/** A queue that resolves when the shared window has a point left for this request. */
function sharedQueue(perSecond: number, shared: SharedRateLimit): RateLimiterQueue {
  return new RateLimiterQueue(sharedWindow(perSecond, shared));
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('aborted', 'AbortError');
}

/** Rejects with the signal's reason when it aborts first (the awaited work goes on unobserved). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Runs request functions under the source's concurrency cap and rate limit. */
export class RequestGate {
  private readonly limit: LimitFunction;
  private readonly bucket: TokenBucket | undefined;
  private readonly shared: { queue: RateLimiterQueue; key: string } | undefined;

  constructor(options: GateOptions = {}) {
    this.limit = pLimit(options.concurrency ?? 1);
    if (options.perSecond !== undefined && options.shared) {
      this.shared = { queue: sharedQueue(options.perSecond, options.shared), key: options.shared.key };
    }
    if (options.perSecond !== undefined) {
      const burst = options.burst ?? Math.max(1, Math.ceil(options.perSecond));
      this.bucket = new TokenBucket({ bucketSize: burst, tokensPerInterval: options.perSecond, interval: 1000 });
      // The library starts empty; a source that has been quiet may take its burst at once.
      this.bucket.content = burst;
    }
  }

  /**
   * Runs `fn` once a slot is free and a token is available (locally, then in the shared
   * window when there is one). Tokens are taken inside the slot, so request *starts* never
   * exceed the rate even after a long queue. Waiting ends early when `signal` aborts.
   */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return raceAbort(
      this.limit(async () => {
        signal?.throwIfAborted();
        if (this.bucket) await raceAbort(this.bucket.removeTokens(1), signal);
        if (this.shared) await raceAbort(this.shared.queue.removeTokens(1, this.shared.key), signal);
        signal?.throwIfAborted();
        return fn();
      }),
      signal,
    );
  }

  /** Requests in flight and waiting (for logs and tests). */
  get pending(): { active: number; queued: number } {
    return { active: this.limit.activeCount, queued: this.limit.pendingCount };
  }
}
