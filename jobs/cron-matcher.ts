/**
 * node-cron's own reading of a cron expression, for what the scheduler does not leave to a
 * running task: tick units, next runs, and the wall-clock matcher dst-gaps.ts walks. Kept
 * apart from schedules.ts so that dst-gaps.ts and schedules.ts can both use it.
 */
import cron, { type ScheduledTask } from 'node-cron';

/** The unit a schedule's ticks are truncated to: a 6-field cron (with seconds) ticks within the minute. */
export const tickUnit = (expression: string): number => (expression.trim().split(/\s+/).length === 6 ? 1000 : 60_000);

/** `use` with node-cron's own matcher of `expression` in `timezone`: a task that is never started, dropped from node-cron's registry afterwards. */
export function withCronMatcher<T>(expression: string, timezone: string, use: (task: ScheduledTask) => T): T {
  const task = cron.createTask(expression, () => undefined, { timezone });
  try {
    return use(task);
  } finally {
    void task.destroy();
  }
}

/**
 * The next `count` times node-cron fires `expression` in its time zone, after the clock's
 * now. It skips wall-clock times a daylight-saving gap swallows: see `nextTick` in
 * dst-gaps.ts for when the scheduler really ticks.
 */
export function nextRuns(expression: string, timezone: string, count = 1): Date[] {
  return withCronMatcher(expression, timezone, (task) => task.getNextRuns(count));
}
