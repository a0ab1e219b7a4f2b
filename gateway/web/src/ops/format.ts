/** How the console writes times, durations and counts. */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const absoluteFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const numberFormat = new Intl.NumberFormat();

/** `Jan 31, 2026, 10:04:05 AM GMT+8` in the viewer's locale and zone (the `title` of a relative time). */
export function absoluteTime(iso: string): string {
  return absoluteFormat.format(new Date(iso));
}

/** `just now`, `3 min ago`, `in 2 h`; a date beyond a month. */
export function relativeTime(iso: string, now: number): string {
  const t = Date.parse(iso);
  const diff = now - t;
  const abs = Math.abs(diff);
  if (abs < 5 * SECOND) return 'just now';
  if (abs >= 30 * DAY) return dateFormat.format(t);
  const span = abs < MINUTE ? `${Math.floor(abs / SECOND)} s` : abs < HOUR ? `${Math.floor(abs / MINUTE)} min` : abs < DAY ? `${Math.floor(abs / HOUR)} h` : `${Math.floor(abs / DAY)} d`;
  return diff >= 0 ? `${span} ago` : `in ${span}`;
}

/** `850 ms`, `12 s`, `3 min 4 s`, `2 h 5 min`, `3 d 4 h`. */
export function duration(ms: number): string {
  if (ms < SECOND) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)} s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min ${Math.floor((ms % MINUTE) / SECOND)} s`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)} h ${Math.floor((ms % HOUR) / MINUTE)} min`;
  return `${Math.floor(ms / DAY)} d ${Math.floor((ms % DAY) / HOUR)} h`;
}

export function count(n: number): string {
  return numberFormat.format(n);
}

/** A checkpoint cursor as text: strings as they are, anything else as JSON. */
export function cursorText(cursor: unknown): string {
  if (cursor === null || cursor === undefined) return '—';
  return typeof cursor === 'string' ? cursor : JSON.stringify(cursor);
}
