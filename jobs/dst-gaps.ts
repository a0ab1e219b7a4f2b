/**
 * Ticks that a daylight-saving change swallows. When a time zone's clocks spring forward, the
 * wall-clock times in between never happen, and node-cron, which fires when the zone's wall
 * clock matches, skips a schedule set inside them without a word (`30 2 * * *` in
 * Europe/Berlin has no 02:30 on the last Sunday of March). Junction runs such a tick once,
 * at the first instant after the gap (03:00 there), as cron daemons do; {@link nextTick} is
 * the next run that takes it into account (what `schedules list` shows).
 *
 * When clocks go back, the hour before the change happens twice, and node-cron fires in one
 * pass at most: west of UTC the first (`0 * * * *` in America/New_York runs at 01:00 EDT, not
 * at 01:00 EST an hour later), east of it the second or part of it (Europe/Berlin, London,
 * Sydney: a schedule every 20 minutes missed the first pass), so a frequent schedule was
 * silent for up to an hour. A schedule whose hour field is a wildcard (`*`, or a step over
 * every hour) runs the ticks of both passes (from the scheduler's sweep, so up to its period
 * late; a tick node-cron fires too is claimed once, by its instant); one at fixed hours runs
 * once, as cron daemons do (a nightly 01:30 job does not run twice).
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

/** A change of `zone`'s offset: when it happens, and the offsets (minutes east of UTC) before and after. */
interface ClockChange {
  at: number;
  before: number;
  after: number;
}

/** Each offset change of `zone` in (from, to]. */
function clockChanges(zone: string, from: Date, to: Date): ClockChange[] {
  const out: ClockChange[] = [];
  let t = from.getTime();
  const end = to.getTime();
  while (t < end) {
    const next = Math.min(t + HOUR, end);
    const before = offsetAt(zone, t);
    const after = offsetAt(zone, next);
    if (after !== before) out.push({ at: transitionIn(zone, t, next), before, after });
    t = next;
  }
  return out;
}

/** Each forward jump of `zone` in (from, to]: when it happens and the wall-clock span it skips, as UTC-read milliseconds. */
export function springForwards(zone: string, from: Date, to: Date): { at: Date; wallFrom: number; wallTo: number }[] {
  return clockChanges(zone, from, to)
    .filter((c) => c.after > c.before)
    .map((c) => ({ at: new Date(c.at), wallFrom: c.at + c.before * MINUTE, wallTo: c.at + c.after * MINUTE }));
}

/** Longer than any hour clocks going back repeat (one hour, 30 minutes on Lord Howe; two in some historical rules). */
const MAX_REPEAT_MS = 3 * HOUR;

/** True when the hour field of `expression` is a wildcard (`*`, or a step over every hour): it names times in every hour. */
function everyHour(expression: string): boolean {
  const fields = expression.trim().split(/\s+/);
  return (fields[fields.length === 6 ? 2 : 1] ?? '').startsWith('*');
}

/**
 * The instants in (from, to] of both passes through an hour that clocks going back repeat,
 * at which `expression` names the wall-clock time: node-cron fires in one of them at most.
 * None for a schedule at fixed hours (see the module comment).
 */
export function repeatTicks(expression: string, timezone: string, from: Date, to: Date): Date[] {
  if (!everyHour(expression)) return [];
  // The first pass ends at the change and the second starts there, each up to a repeat's
  // length long: a change that near either end of the window has ticks in it (the sweep
  // asks about 30 s at a time).
  const backs = clockChanges(timezone, new Date(from.getTime() - MAX_REPEAT_MS), new Date(to.getTime() + MAX_REPEAT_MS)).filter((c) => c.after < c.before);
  if (backs.length === 0) return [];
  const step = tickUnit(expression);
  return withCronMatcher(expression, 'Etc/UTC', (wall) => {
    const out: Date[] = [];
    for (const c of backs) {
      const repeat = (c.before - c.after) * MINUTE;
      // UTC [at - repeat, at) read with the old offset, then [at, at + repeat) with the new one.
      for (let u = Math.ceil((c.at - repeat) / step) * step; u < c.at + repeat; u += step) {
        const offset = u < c.at ? c.before : c.after;
        if (u > from.getTime() && u <= to.getTime() && wall.match(new Date(u + offset * MINUTE))) out.push(new Date(u));
      }
    }
    return out;
  });
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
 * next run, or the end of a gap before it that swallows a tick, or a tick of a repeated hour
 * (see {@link repeatTicks}), whichever comes first (node-cron
 * alone would show 00:30 UTC on Monday for `30 2 * * *` in Europe/Berlin on the Saturday before
 * the last Sunday of March; the scheduler ticks at 03:00 CEST on the Sunday). Null when node-cron
 * names none. The gap search covers the time up to node-cron's next run only, an hour a step.
 */
export function nextTick(expression: string, timezone: string): Date | null {
  const now = new Date();
  const cronNext = nextRuns(expression, timezone)[0];
  if (!cronNext) return null;
  const [first] = [...gapTicks(expression, timezone, now, cronNext), ...repeatTicks(expression, timezone, now, cronNext)].sort((a, b) => a.getTime() - b.getTime());
  return first && first < cronNext ? first : cronNext;
}
