/**
 * Times as the SQL connectors emit them, exact to the database's precision (a JS Date holds
 * milliseconds; PostgreSQL keeps microseconds, and a checkpoint rounded down to the
 * millisecond would re-read or skip rows that share a cursor value).
 *
 * - instants (`timestamptz`, `TIMESTAMP WITH TIME ZONE`): UTC, `2026-01-01T08:00:00.123Z`,
 *   with 6 fraction digits when the value has sub-millisecond precision;
 * - wall-clock times (`timestamp`, Oracle `DATE` / `TIMESTAMP`): the stored wall clock with the
 *   offset of the source's configured `timezone` at that moment, `2026-01-01T08:00:00.000+08:00`.
 *   Bound back as a cursor, the database drops the offset and gets the stored wall clock.
 */
import { DateTime, FixedOffsetZone } from 'luxon';

/** Calendar and clock fields of a wall-clock time (fraction as written: up to 6 digits). */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction digits, e.g. `'123456'`, `'5'` or `''`. */
  fraction: string;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `.123` or `.123456`: milliseconds unless finer digits are present. */
function fractionText(fraction: string): string {
  if (fraction.length <= 3) return `.${fraction.padEnd(3, '0')}`;
  const micro = fraction.slice(0, 6).padEnd(6, '0');
  return micro.endsWith('000') ? `.${micro.slice(0, 3)}` : `.${micro}`;
}

/** `+08:00`, `-03:30`, or `Z` for a zero offset. */
export function offsetText(minutes: number): string {
  if (minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function dateTimeText(w: WallClock): string {
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${fractionText(w.fraction)}`;
}

/** A wall-clock time in `zone` as ISO-8601 with that zone's offset at that moment. */
export function wallClockToIso(w: WallClock, zone: string): string {
  const dt = DateTime.fromObject({ year: w.year, month: w.month, day: w.day, hour: w.hour, minute: w.minute, second: w.second }, { zone });
  return `${dateTimeText(w)}${offsetText(dt.isValid ? dt.offset : 0)}`;
}

// `2026-01-01 08:00:00.123456`, then an optional offset `+08`, `+05:30` or `+05:53:28`.
const PG_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?)?$/;

function parsePgTimestamp(text: string): { wall: WallClock; offsetSeconds: number | undefined } | undefined {
  const m = PG_TIMESTAMP.exec(text);
  if (!m) return undefined;
  const n = (i: number) => Number(m[i] ?? 0);
  const wall = { year: n(1), month: n(2), day: n(3), hour: n(4), minute: n(5), second: n(6), fraction: m[7] ?? '' };
  const offsetSeconds = m[8] === undefined ? undefined : (m[8] === '-' ? -1 : 1) * (n(9) * 3600 + n(10) * 60 + n(11));
  return { wall, offsetSeconds };
}

/**
 * PostgreSQL `timestamptz` text (any session TimeZone) to UTC ISO-8601. `infinity`, BC dates
 * and years past 9999 have no ISO form here and are returned as PostgreSQL wrote them.
 */
export function pgTimestamptzToIso(text: string): string {
  // Fast path, hundreds of thousands of times per read: the session's TimeZone is UTC, so
  // `YYYY-MM-DD HH:MM:SS[.ffffff]+00` only needs rearranging.
  if (text.length >= 22 && text.endsWith('+00') && text.charCodeAt(4) === 45 && text.charCodeAt(10) === 32) {
    if (text.length === 22) return `${text.slice(0, 10)}T${text.slice(11, 19)}.000Z`;
    if (text.charCodeAt(19) === 46) return `${text.slice(0, 10)}T${text.slice(11, 19)}${fractionText(text.slice(20, -3))}Z`;
  }
  const parsed = parsePgTimestamp(text);
  if (!parsed || parsed.offsetSeconds === undefined) return text;
  const { wall, offsetSeconds } = parsed;
  const utc = new Date(0);
  utc.setUTCFullYear(wall.year, wall.month - 1, wall.day);
  utc.setUTCHours(wall.hour, wall.minute, wall.second - offsetSeconds, 0);
  const iso = utc.toISOString();
  if (!/^\d{4}-/.test(iso)) return text;
  return `${iso.slice(0, 19)}${fractionText(wall.fraction)}Z`;
}

/** PostgreSQL `timestamp` (without time zone) text: a wall clock in `zone`. */
export function pgTimestampToIso(text: string, zone: string): string {
  const parsed = parsePgTimestamp(text);
  if (!parsed || parsed.offsetSeconds !== undefined) return text;
  return wallClockToIso(parsed.wall, zone);
}

/** The local-time fields of a Date (how oracledb returns DATE and TIMESTAMP: as a local wall clock). */
export function localWallClock(date: Date): WallClock {
  return {
    year: date.getFullYear(),
    month: date.getMonth() + 1,
    day: date.getDate(),
    hour: date.getHours(),
    minute: date.getMinutes(),
    second: date.getSeconds(),
    fraction: pad(date.getMilliseconds(), 3),
  };
}

/**
 * An ISO-8601 text (a checkpoint or `--since` value) as an instant; a text without an offset
 * is read in `zone`. Undefined when it is not ISO-8601.
 */
export function parseIso(text: string, zone: string): DateTime | undefined {
  const dt = DateTime.fromISO(text, { zone, setZone: true });
  return dt.isValid ? dt : undefined;
}

// An ISO-8601 time with an explicit offset; the fraction is kept as written (microseconds).
const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)$/i;

function offsetMinutes(text: string): number {
  if (text.toUpperCase() === 'Z') return 0;
  const digits = text.slice(1).replace(':', '');
  return (text.startsWith('-') ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0));
}

/**
 * A checkpoint or `--since` value for a comparison with a wall-clock column in `zone`, as
 * `YYYY-MM-DD HH:MM:SS[.fraction]`. The database drops the offset of a value compared with a
 * wall-clock column, so `2026-01-01T00:00:00Z` against America/Sao_Paulo would start at 00:00
 * there (03:00Z); this turns it into that instant's wall clock there, `2025-12-31 21:00:00`.
 * A value whose offset is the zone's own for its wall clock (what the connector emits) keeps
 * its wall clock as written, also one inside a DST gap that the zone cannot represent.
 * Without an offset, or not ISO-8601: returned unchanged for the database to read.
 */
export function isoToWallClock(text: string, zone: string): string {
  const m = ISO_WITH_OFFSET.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s = '00', fraction, zoneText = 'Z'] = m;
  const fields = { year: Number(y), month: Number(mo), day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s) };
  const offset = offsetMinutes(zoneText);
  const there = DateTime.fromObject(fields, { zone });
  if (!there.isValid) return text;
  // The offset moves whole minutes: the fraction is the same on both clocks, and kept exact.
  const frac = fraction ? `.${fraction}` : '';
  if (there.offset === offset) return `${y}-${mo}-${d} ${h}:${mi}:${s}${frac}`;
  const wall = DateTime.fromObject(fields, { zone: FixedOffsetZone.instance(offset) }).setZone(zone);
  return wall.isValid ? `${wall.toFormat('yyyy-MM-dd HH:mm:ss')}${frac}` : text;
}
