/**
 * Cursor values as people type them (`junction read --since`, `junction sync --from/--to`,
 * a backfill's range in a job): an ISO-8601 date or date-time, or a number. Checked once
 * here, before any connector sees them: left to the connectors, `garbage` was a query error
 * on PostgreSQL, a SOAP fault on the order service and an empty result on MongoDB.
 */
import { DateTime } from 'luxon';
import type { Checkpoint } from './types.js';

export type CursorKind = 'number' | 'time';

const NUMBER_TEXT = /^-?\d+(\.\d+)?$/;
/** The forms connectors write and read (`2026-01-31`, `2026-01-31 08:00:00`, ISO 8601 with offset). */
const TIME_TEXT = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/i;
/** An instant as connectors write one (json.ts, sql/time-values.ts, a SOAP `xs:dateTime`). */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** What a cursor value names, for messages. */
export const CURSOR_FORMS = 'an ISO-8601 date or date-time (2026-01-01, 2026-01-01T08:00:00+08:00) or a number';

/**
 * The instant of a date or date-time cursor value (epoch ms), or null when `text` is not one.
 * Luxon rather than Date.parse: Date.parse takes `2026-02-30` as March 2 and refuses the
 * `+08` offset. A value without an offset is read as UTC, so the result does not depend on
 * the machine's time zone.
 */
export function cursorTime(text: string): number | null {
  if (!TIME_TEXT.test(text)) return null;
  const t = DateTime.fromISO(text.replace(' ', 'T'), { zone: 'utc' });
  return t.isValid ? t.toMillis() : null;
}

/**
 * Whether `text` is an ISO-8601 date-time with its UTC offset (`Z`, `+0800`, `+08:00`) as
 * connectors write one: one instant wherever it is read. A date (`2026-01-31`: its `-31` is
 * no offset) or a date-time without an offset is a wall clock, whose instant depends on a
 * time zone ({@link cursorTime} reads it as UTC only to have a value). Stricter than the
 * typed forms, which also allow a space before the time and an offset of hours only (`+08`):
 * `new Date` reads every text this accepts. The form is checked, not the calendar.
 */
export function isIsoWithOffset(text: string): boolean {
  return ISO_WITH_OFFSET.test(text);
}

/** Whether `text` is a number or a date/time cursor value; null when it is neither. */
export function cursorKind(text: string): CursorKind | null {
  if (NUMBER_TEXT.test(text)) return 'number';
  return cursorTime(text) === null ? null : 'time';
}

const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

/**
 * Whether a batch's last cursor value lies after a backfill's end, where the connector has
 * no reading of its own (`Connector.cursorAfter`). Numbers compare as numbers (PostgreSQL's
 * int8 arrives as text: `"12"` < `"100"`, exactly even past 2^53), dates as instants (a time
 * without an offset as UTC), anything else as text.
 */
export function pastEnd(checkpoint: Checkpoint | null, to: string): boolean {
  const cursor = checkpoint?.cursor;
  if (cursor === null || cursor === undefined) return false;
  const text = String(cursor);
  if (INTEGER_TEXT.test(text) && INTEGER_TEXT.test(to)) return BigInt(text) > BigInt(to);
  if (DECIMAL_TEXT.test(text) && DECIMAL_TEXT.test(to)) return Number(text) > Number(to);
  const [a, b] = [cursorTime(text), cursorTime(to)];
  if (a !== null && b !== null) return a > b;
  return text > to;
}
