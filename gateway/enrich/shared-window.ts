/**
 * A live lookup's turn in its source's shared rate window: the Redis window in which the sync
 * workers count the source's `rate_limit` "for the source as a whole"
 * (`connectors/rest/limiter.ts`). A lookup takes its request from the window before its
 * circuit breaker, and never queues for one: behind a sync that uses the whole rate, a queued
 * lookup waited until the breaker timed it out (a failure, so every big sync opened the
 * circuit), and the waiters piled up in the queue, each still taking a request from the sync
 * when its turn came, long after its panel had been sent.
 */
import { RateLimiterRes } from 'rate-limiter-flexible';
import { sharedWindow, type SharedRateLimit } from '../../connectors/rest/limiter.js';

/** Takes one request from the window now: true, or false when the current window has none left. */
export type Admission = () => Promise<boolean>;

/** An {@link Admission} in the very window the workers count `perSecond` in under `shared.key`. */
export function sharedWindowAdmission(perSecond: number, shared: SharedRateLimit): Admission {
  const limiter = sharedWindow(perSecond, shared);
  return () =>
    limiter.consume(shared.key).then(
      () => true,
      (rejected: unknown) => {
        // The library rejects with a RateLimiterRes when the window is spent, an Error on failure.
        if (rejected instanceof RateLimiterRes) return false;
        throw rejected;
      },
    );
}
