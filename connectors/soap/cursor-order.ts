/**
 * Ordering of compound cursors `(cursor, key)` as the service orders its records, used to
 * skip what a checkpoint already covers. Times are compared as instants, not as strings:
 * `2025-01-01T08:00:00+08:00` and `2025-01-01T00:00:00Z` are the same moment, and a service
 * may answer in its own offset while a checkpoint was written in another.
 */
import type { JsonValue } from '../types.js';

/** An ISO-8601 date-time: date, time to at least minutes, optional fraction and offset. */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** An instant as [epoch milliseconds, nanoseconds within the millisecond]. */
export type Instant = [number, number];

/**
 * The instant an ISO-8601 string names, keeping sub-millisecond digits (PostgreSQL sends
 * microseconds). A string without an offset is read as UTC: both sides of a comparison
 * come from the same service, so they are at least consistent.
 */
export function parseInstant(text: string): Instant | null {
  const m = ISO_DATE_TIME.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const fraction = (frac ?? '').padEnd(9, '0');
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), Number(fraction.slice(0, 3)));
  if (Number.isNaN(ms)) return null;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0)) * 60_000;
  }
  return [ms, Number(fraction.slice(3))];
}

/** ISO-8601 in UTC for an epoch-milliseconds instant. */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString();
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

const INTEGER_TEXT = /^-?\d+$/;

/** `value` as a BigInt when it is an integer, as a number or as text. */
function integerOf(value: JsonValue): bigint | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : null;
  return typeof value === 'string' && INTEGER_TEXT.test(value) ? BigInt(value) : null;
}

/**
 * Strings compare by their UTF-8 bytes, which is PostgreSQL's "C" collation and most
 * legacy services' byte order (JavaScript's `<` compares UTF-16 units, which differs for
 * characters outside the BMP). A number against the text of an integer compares as numbers:
 * the hub keeps a checkpoint's key as text, so an `xsd:int` key 99 comes back as "99", and
 * compared as text it would sort after 100 and drop the records tied with it.
 */
function compareScalar(a: JsonValue | undefined, b: JsonValue | undefined, asTime: boolean): number {
  const aNull = a === null || a === undefined;
  const bNull = b === null || b === undefined;
  if (aNull || bNull) return aNull === bNull ? 0 : aNull ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : a < b ? -1 : 1;
  if (typeof a === 'number' || typeof b === 'number') {
    const ai = integerOf(a);
    const bi = integerOf(b);
    if (ai !== null && bi !== null) return ai === bi ? 0 : ai < bi ? -1 : 1;
  }
  const as = typeof a === 'string' ? a : JSON.stringify(a);
  const bs = typeof b === 'string' ? b : JSON.stringify(b);
  if (asTime) {
    const ai = parseInstant(as);
    const bi = parseInstant(bs);
    if (ai && bi) return ai[0] !== bi[0] ? Math.sign(ai[0] - bi[0]) : Math.sign(ai[1] - bi[1]);
  }
  return Math.sign(Buffer.compare(utf8(as), utf8(bs)));
}

/** A compound cursor value: the record's cursor field and its key. */
export interface CursorKey {
  cursor: JsonValue | undefined;
  key: JsonValue | undefined;
}

/** Negative, zero or positive as `a` sorts before, with or after `b`. */
export function compareCursorKey(a: CursorKey, b: CursorKey): number {
  return compareScalar(a.cursor, b.cursor, true) || compareScalar(a.key, b.key, false);
}
