/**
 * Ticks that a daylight-saving gap swallows. When a time zone's clocks spring forward, the
 * wall-clock times in between never happen, and node-cron, which fires when the zone's wall
 * clock matches, skips a schedule set inside them without a word (`30 2 * * *` in
 * Europe/Berlin has no 02:30 on the last Sunday of March). Junction runs such a tick once,
 * at the first instant after the gap (03:00 there), as cron daemons do; {@link nextTick} is
 * the next run that takes it into account (what `schedules list` shows).
 */
import { DateTime } from 'luxon';
import { nextRuns, tickUnit, withCronMatcher } from './cron-matcher.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Minutes east of UTC of `zone` at `ms`. */
const offsetAt = (zone: string, ms: number) => DateTime.fromMillis(ms, { zone }).offset;

/** The instant (ms) in (lo, hi] where the offset changes, lo and hi having different offsets: the first with the new one. */
function transitionIn(zone: string, lo: number, hi: number): number {
  const before = offsetAt(zone, lo);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(zone, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Each forward jump of `zone` in (from, to]: when it happens and the wall-clock span it skips, as UTC-read milliseconds. */
export function springForwards(zone: string, from: Date, to: Date): { at: Date; wallFrom: number; wallTo: number }[] {
  const out: { at: Date; wallFrom: number; wallTo: number }[] = [];
  let t = from.getTime();
  const end = to.getTime();
  while (t < end) {
    const next = Math.min(t + HOUR, end);
    const before = offsetAt(zone, t);
    const after = offsetAt(zone, next);
    if (after !== before) {
      const at = transitionIn(zone, t, next);
      if (after > before) out.push({ at: new Date(at), wallFrom: at + before * MINUTE, wallTo: at + after * MINUTE });
    }
    t = next;
  }
  return out;
}

/**
 * The instants in (from, to] at which a gap of `timezone` ended that swallowed at least one
 * time `expression` names: the ticks to run in its place, one per gap.
 */
export function gapTicks(expression: string, timezone: string, from: Date, to: Date): Date[] {
  const gaps = springForwards(timezone, from, to);
  if (gaps.length === 0) return [];
  const step = tickUnit(expression);
  // Read in UTC, the matcher takes a wall-clock time as the UTC instant with those digits.
  return withCronMatcher(expression, 'Etc/UTC', (wall) =>
    gaps.filter((g) => {
      for (let w = g.wallFrom; w < g.wallTo; w += step) if (wall.match(new Date(w))) return true;
      return false;
    }).map((g) => g.at),
  );
}

/**
 * When the scheduler next ticks `expression` in `timezone`, after the clock's now: node-cron's
 * next run, or the end of a gap before it that swallows a tick, whichever comes first (node-cron
 * alone would show 00:30 UTC on Monday for `30 2 * * *` in Europe/Berlin on the Saturday before
 * the last Sunday of March; the scheduler ticks at 03:00 CEST on the Sunday). Null when node-cron
 * names none. The gap search covers the time up to node-cron's next run only, an hour a step.
 */
export function nextTick(expression: string, timezone: string): Date | null {
  const now = new Date();
  const cronNext = nextRuns(expression, timezone)[0];
  if (!cronNext) return null;
  const [gapEnd] = gapTicks(expression, timezone, now, cronNext);
  return gapEnd && gapEnd < cronNext ? gapEnd : cronNext;
}
