/**
 * `parse: datetime`: source times in whatever convention a system uses (ISO-8601 with an
 * offset, wall-clock text in some zone, epoch numbers) to one form: an ISO-8601 instant in
 * UTC (`2025-11-15T00:43:12.000Z`) for datetime fields, `YYYY-MM-DD` for date fields.
 *
 * Rules: a value that carries an offset keeps it (the `timezone` only applies to values
 * without one); a value without an offset needs the field's `timezone`, there is no
 * silent UTC default (a Shanghai wall clock read as UTC is eight hours wrong and looks fine).
 * Precision is the millisecond.
 */
import { DateTime, type DateTimeMaybeValid } from 'luxon';
import { JunctionError } from '../../config/errors.js';
import { memoZone } from './memo-zone.js';

/** How one field reads times. */
export interface DateTimeRule {
  /** A luxon format (`yyyy-MM-dd HH:mm:ss`), `x` (epoch ms) or `X` (epoch s). Absent: ISO-8601 or SQL text. */
  format?: string;
  /** IANA zone of values written without an offset. */
  timezone?: string;
  output: 'datetime' | 'date';
}

const LOCALE = { locale: 'en-US' } as const;

/** True when every value of `format` carries its own offset (a zone token, or epoch numbers). */
export function formatHasZone(format: string): boolean {
  if (format === 'x' || format === 'X') return true;
  // Text in single quotes is literal in luxon formats.
  return /[Zz]/.test(format.replace(/'[^']*'/g, ''));
}

/** A reference instant whose parts all differ (day > 12, minute > 12), to round-trip formats with. */
const PROBE = DateTime.fromObject({ year: 2024, month: 11, day: 23, hour: 13, minute: 37, second: 42, millisecond: 123 }, { zone: 'UTC' });

/**
 * Why `format` cannot read the `output` values it seems to describe, or null when it can: the
 * probe instant is written with the format and read back, and the parts the format writes
 * must come back. `yyyy-mm-dd` (minutes where months were meant) reads 2024-11-23 as
 * January 23 and would fail no record; it fails here, at load.
 */
export function formatProblem(format: string, output: 'datetime' | 'date'): string | null {
  if (format === 'x' || format === 'X') return null;
  const tokens = format.replace(/'[^']*'/g, '');
  // Habits from other libraries that luxon reads otherwise: moment's YYYY-MM-DD (Y is not a
  // luxon token, D a localized date) would fail every record instead of none.
  if (/Y/.test(tokens) || (/D/.test(tokens) && /M/.test(tokens))) return `format ${show(format)} is not a luxon format: years are yyyy and days dd (YYYY and DD are moment.js tokens)`;
  const hint = /m/.test(tokens) && !/[ML]/.test(tokens) ? ' (mm is minutes; months are MM)' : /h/.test(tokens) && !/a/.test(tokens) ? ' (hh is the 12-hour clock: add a, or use HH)' : '';
  let back: DateTimeMaybeValid;
  let written: string;
  try {
    written = PROBE.toFormat(format, LOCALE);
    back = DateTime.fromFormatParser(written, DateTime.buildFormatParser(format, LOCALE), { ...LOCALE, zone: 'UTC' });
  } catch (err) {
    return `format ${show(format)} is not a luxon format: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (!back.isValid) return `format ${show(format)} cannot read what it writes (${show(written)}): ${back.invalidExplanation ?? back.invalidReason}${hint}`;
  const parts = output === 'date' || !/[Hhkm]/.test(tokens) ? (['year', 'month', 'day'] as const) : (['year', 'month', 'day', 'hour', 'minute'] as const);
  const wrong = parts.filter((p) => back[p] !== PROBE[p]);
  if (wrong.length === 0) return null;
  const read = output === 'date' || parts.length === 3 ? back.toISODate() : back.toISO({ suppressMilliseconds: true, includeOffset: false });
  return `format ${show(format)} reads ${show(written)} (${PROBE.toISODate()} ${PROBE.toFormat('HH:mm')}) as ${read}: it loses the ${wrong.join(', ')}${hint}`;
}

/**
 * ISO-8601 with seconds and an offset: what connectors emit for instants. `Date.parse` reads
 * these in ~1 µs where luxon takes ~20 µs (measured in bench.ts); it also rolls impossible
 * dates over (Feb 30 → Mar 2), so the wall clock is checked to round-trip, and anything
 * that does not goes to luxon, which explains what is wrong.
 */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/;

function fastIso(text: string): string | undefined {
  const m = ISO_WITH_OFFSET.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  const iso = new Date(ms).toISOString();
  if (iso.startsWith('0000') || iso.startsWith('-')) return undefined; // the slow path says why
  // Connectors emit UTC (…Z): then the output is the wall clock to check against.
  const offsetMinutes = m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  const wallClock = offsetMinutes === 0 ? iso : new Date(ms + offsetMinutes * 60_000).toISOString();
  return wallClock.slice(0, 19) === text.slice(0, 19) ? iso : undefined;
}

/** An offset (or Z) after a time of day: `…T08:00:00+08:00`, `… 08:00Z`, `…08:00:00.5 +0800`. */
const HAS_OFFSET = /[T ]\d{2}(?::?\d{2}){0,2}(?:[.,]\d+)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
/**
 * A whole calendar date first (extended, basic, week or ordinal form), then the end or a
 * time: luxon's fromISO also takes a time alone, an hour, a year and a month, and with a zone
 * it fills in the date of the day the sync runs (`"09:00"` became today at 09:00).
 */
const WHOLE_DATE_FIRST = /^\d{4}(?:-\d{2}-\d{2}|\d{4}|-?W\d{2}-?\d|-?\d{3})(?=$|[T ])/i;

function bad(message: string): JunctionError {
  return new JunctionError('MAP_BAD_VALUE', message);
}

const show = (value: unknown) => JSON.stringify(value);

/** The converter of one field: value in, ISO text out; throws MAP_BAD_VALUE. */
export function compileDateTime(rule: DateTimeRule): (value: unknown) => string {
  const { format, timezone, output } = rule;
  const zone = timezone ? memoZone(timezone) : 'UTC';
  const parser = format && format !== 'x' && format !== 'X' ? DateTime.buildFormatParser(format, LOCALE) : undefined;
  const zoned = format ? formatHasZone(format) : false;
  const expected = format ? `format ${format}` : 'ISO-8601';

  const finish = (dt: DateTimeMaybeValid, value: unknown): string => {
    if (!dt.isValid) throw bad(`cannot read ${show(value)} as a ${output} (${expected}): ${dt.invalidExplanation ?? dt.invalidReason}`);
    // A date of an instant is the date where the field's zone is, when it declares one
    // (23:30 UTC is tomorrow in Shanghai); else the date as written.
    const text = output === 'date' ? ((timezone ? dt.setZone(zone) : dt).toISODate() as string) : new Date(dt.toMillis()).toISOString();
    // Year 0 (a "no date" placeholder of some legacy systems) reads fine, but PostgreSQL has
    // no year 0: it would fail the whole batch at load, not just this record.
    if (text.startsWith('0000') || text.startsWith('-')) throw bad(`${show(value)} is before the year 1 (a placeholder for "no date"? give the field a default)`);
    // Past 9999 the year has more digits, which the load stage refuses: told here, the field's
    // default applies (an epoch in milliseconds read with X, seconds as X's milliseconds…).
    if (text.startsWith('+')) throw bad(`${show(value)} is after the year 9999${format === 'X' ? ' (epoch milliseconds read as seconds? use format: x)' : format === 'x' ? ' (epoch microseconds? divide them into milliseconds)' : ''}`);
    return text;
  };

  const fromNumber = (value: number | string): string => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw bad(`cannot read ${show(value)} as epoch ${format === 'x' ? 'milliseconds' : 'seconds'}`);
    const dt = format === 'x' ? DateTime.fromMillis(n, { zone }) : DateTime.fromSeconds(n, { zone });
    return finish(dt, value);
  };

  return (value) => {
    if (format === 'x' || format === 'X') {
      if (typeof value === 'number' || (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value))) return fromNumber(value);
      throw bad(`cannot read ${show(value)} as epoch ${format === 'x' ? 'milliseconds' : 'seconds'}`);
    }
    // A text format reads a number by its digits (a legacy NUMBER(8) date: 19900514 with yyyyMMdd).
    if (typeof value === 'number' && !(parser && Number.isSafeInteger(value))) {
      throw bad(`${show(value)} is a number: give format: x (epoch milliseconds) or X (epoch seconds)${parser ? '' : ', or a format its digits are written in (yyyyMMdd)'}`);
    }
    if (typeof value !== 'string' && typeof value !== 'number') throw bad(`expected a ${output} as text, received ${show(value)}`);
    const text = String(value).trim();
    if (parser) {
      const dt = DateTime.fromFormatParser(text, parser, { ...LOCALE, zone, setZone: true });
      // Text that is no date at all is told so, not asked for a zone.
      if (!zoned && !timezone && output === 'datetime' && dt.isValid) throw bad(`${show(value)} has no UTC offset: declare timezone: on the field`);
      return finish(dt, value);
    }
    if (output === 'datetime') {
      const iso = fastIso(text);
      if (iso !== undefined) return iso;
    }
    if (!WHOLE_DATE_FIRST.test(text)) throw bad(`cannot read ${show(value)} as a ${output} (${expected}): it does not start with a whole date (yyyy-MM-dd)`);
    const options = { zone, setZone: true };
    let dt = DateTime.fromISO(text, options);
    if (!dt.isValid) {
      const sql = DateTime.fromSQL(text, options);
      if (sql.isValid) dt = sql;
    }
    // Read in UTC only to tell a date without an offset from text that is no date at all.
    if (dt.isValid && !timezone && !HAS_OFFSET.test(text) && !(output === 'date' && DATE_ONLY.test(text))) {
      throw bad(`${show(value)} has no UTC offset: declare timezone: on the field`);
    }
    return finish(dt, value);
  };
}
