/**
 * The per-socket frame rate limit (`gateway.rate_limit`): `frames_per_second` frames in each
 * one-second window and, beyond those, up to `burst` more in each ten-second window. A window
 * starts with the first frame after the previous one ended.
 *
 * Four numbers inside the socket's session. (A keyed limiter store, as the login throttle
 * uses, keeps a record, a key string and an expiry timer per socket: several hundred bytes
 * per idle socket, times tens of thousands of sockets.)
 */
export interface FrameLimits {
  readonly frames_per_second: number;
  readonly burst: number;
}

const STEADY_MS = 1000;
const BURST_MS = 10_000;

export class FrameBudget {
  private steadyFrom = -Infinity;
  private steadyUsed = 0;
  private burstFrom = -Infinity;
  private burstUsed = 0;

  constructor(private readonly limits: FrameLimits) {}

  /** Counts one frame. @returns false when the frame is over the limit */
  take(now: number = Date.now()): boolean {
    if (now - this.steadyFrom >= STEADY_MS) {
      this.steadyFrom = now;
      this.steadyUsed = 0;
    }
    if (this.steadyUsed < this.limits.frames_per_second) {
      this.steadyUsed++;
      return true;
    }
    if (now - this.burstFrom >= BURST_MS) {
      this.burstFrom = now;
      this.burstUsed = 0;
    }
    if (this.burstUsed < this.limits.burst) {
      this.burstUsed++;
      return true;
    }
    return false;
  }
}
