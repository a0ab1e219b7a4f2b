import { describe, expect, it } from 'vitest';
import { FrameBudget } from '../../gateway/frame-budget.js';

/** How many of `frames` frames sent at `at` ms pass. */
function passed(budget: FrameBudget, frames: number, at: number): number {
  let n = 0;
  for (let i = 0; i < frames; i++) if (budget.take(at)) n++;
  return n;
}

describe('FrameBudget (gateway.rate_limit per socket)', () => {
  it('lets frames_per_second through in one second, then the burst, then refuses', () => {
    const b = new FrameBudget({ frames_per_second: 5, burst: 3 });
    expect(passed(b, 5, 0)).toBe(5);
    expect(passed(b, 4, 10)).toBe(3);
    expect(b.take(20)).toBe(false);
  });

  it('refills the steady budget each second, the burst only every ten seconds', () => {
    const b = new FrameBudget({ frames_per_second: 2, burst: 2 });
    expect(passed(b, 4, 0)).toBe(4); // 2 steady + 2 burst
    expect(passed(b, 3, 1000)).toBe(2); // steady again, burst spent
    expect(passed(b, 3, 5000)).toBe(2);
    expect(passed(b, 3, 10_000)).toBe(3); // new burst window
  });

  it('with burst 0 only the steady rate passes', () => {
    const b = new FrameBudget({ frames_per_second: 1, burst: 0 });
    expect(b.take(0)).toBe(true);
    expect(b.take(999)).toBe(false);
    expect(b.take(1000)).toBe(true);
  });

  it('a socket sending at the steady rate never touches its burst', () => {
    const b = new FrameBudget({ frames_per_second: 3, burst: 1 });
    for (let s = 0; s < 30; s++) expect(passed(b, 3, s * 1000)).toBe(3);
    expect(passed(b, 5, 30_000)).toBe(4); // 3 steady + the burst frame never used
  });
});
