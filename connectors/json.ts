/**
 * Conversion of driver values to the plain JSON every connector emits: dates as ISO-8601
 * with offset, big or exact numbers as strings, binary as base64, ObjectId as hex.
 */
import { isSafeNumber, parse as parseLossless } from 'lossless-json';
import { JunctionError } from '../config/errors.js';
import type { JsonValue, SourceRecord } from './types.js';

/** ISO-8601 in UTC with an explicit offset (`2026-01-01T08:00:00.000Z`). */
export function isoDate(date: Date): string | null {
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * Arrays and objects nested deeper than this (the record itself being level 1) are never
 * handed out whole: serialising them later fails with a bare RangeError at some depth. A
 * record a stream reads is cut there ({@link CUT_MARKER}), so that the map stage
 * dead-letters that one record (MAP_RECORD_TOO_DEEP) and the page goes on; any other value
 * (a lookup's answer, {@link refuseCut}; a cursor) is refused with CONN_BAD_RESPONSE. The REST connector puts
 * the same limit on whole response bodies (rest/decode.ts), which it refuses before parsing.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The one key of what stands in for a value cut at {@link MAX_JSON_DEPTH}. The stand-in is
 * itself a level too deep, so the record fails the map stage's depth check instead of
 * loading with the stand-in as data, now or on a dead letter's replay.
 */
export const CUT_MARKER = '$junction_cut';

/**
 * Refuses records a read cut ({@link cutStandIn}) where they must come whole: a lookup's
 * answer goes to an agent's panel as it is, with no map stage to dead-letter it.
 * @throws JunctionError CONN_BAD_RESPONSE naming `source` and `what`
 */
export function refuseCut<T>(records: T, source: string, what: string): T {
  const cutAt = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object') return false;
    if (!Array.isArray(v) && CUT_MARKER in v) return true;
    return Object.values(v).some(cutAt); // a cut record is at most MAX_JSON_DEPTH + 1 deep
  };
  if (cutAt(records)) {
    throw new JunctionError('CONN_BAD_RESPONSE', `${what}: a value is nested deeper than ${MAX_JSON_DEPTH} levels`, {
      where: { source },
      details: { maxDepth: MAX_JSON_DEPTH },
    });
  }
  return records;
}

/** What a value past {@link MAX_JSON_DEPTH} becomes in a record that is cut. */
export function cutStandIn(): { [CUT_MARKER]: string } {
  return { [CUT_MARKER]: `nested deeper than ${MAX_JSON_DEPTH} levels; cut here` };
}

/**
 * A number in JSON text that a JS number may not hold exactly: 16 digits or more (a decimal
 * point may sit between them), or an exponent. With at most 15 digits and no exponent, a
 * number always reads back as written. The exponent must start a number, so the hex of a
 * UUID (`550e8400`) does not send every document down the slower path.
 */
const MAY_LOSE_PRECISION = /\d(?:\.?\d){15}|(?:^|[\s:,[])-?\d+(?:\.\d+)?[eE]/;

/**
 * JSON text from a source to values, numbers exact: JSON.parse rounds an order id of 20
 * digits, or a decimal with many, without a trace (12345678901234567891 became
 * "12345678901234567000"; 1e400 became Infinity, then null); such a number stays a string,
 * as the record contract asks. The lossless parser is 3x slower, so it only runs when the
 * text may hold one. A duplicate key keeps its last value, as with JSON.parse. The lossless
 * parser recurses: callers bound the nesting (MAX_JSON_DEPTH) or catch its RangeError.
 */
export function parseExactJson(text: string): unknown {
  if (!MAY_LOSE_PRECISION.test(text)) return JSON.parse(text);
  return parseLossless(text, null, { parseNumber: (n) => (isSafeNumber(n) ? Number(n) : n), onDuplicateKey: ({ newValue }) => newValue });
}

interface BsonLike {
  _bsontype?: string;
  toHexString?: () => string;
  toString: () => string;
}

/**
 * One value to JSON. Unknown objects keep their own `toJSON`, else their fields. `depth` is
 * how many arrays or objects already enclose `value`. Past {@link MAX_JSON_DEPTH}: with `cut`,
 * the {@link cutStandIn}; else throws CONN_BAD_RESPONSE (without `where`: callers that know
 * the source and record add it).
 */
export function toJsonValue(value: unknown, depth = 0, cut = false): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // Outside the safe range a JS number is already inexact; NaN/Infinity are not JSON.
      if (!Number.isFinite(value)) return null;
      return Number.isSafeInteger(value) || !Number.isInteger(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value instanceof Date) return isoDate(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  const bson = value as BsonLike;
  switch (bson._bsontype) {
    case 'ObjectId':
    case 'ObjectID':
      return bson.toHexString!();
    case 'Decimal128':
    case 'Long':
      return bson.toString();
    case 'Binary':
      return Buffer.from((value as { buffer: Uint8Array }).buffer).toString('base64');
    case 'Timestamp':
      return bson.toString();
    default:
      break;
  }
  if (depth >= MAX_JSON_DEPTH) {
    if (cut) return cutStandIn();
    throw new JunctionError('CONN_BAD_RESPONSE', `a value is nested deeper than ${MAX_JSON_DEPTH} levels`, { details: { maxDepth: MAX_JSON_DEPTH } });
  }
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v, depth + 1, cut));
  const out: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(value)) setMember(out, k, toJsonValue(v, depth + 1, cut));
  return out;
}

/**
 * `out[key] = value`, except that a member named `__proto__` (JSON.parse and the BSON reader
 * make one from a document's field) stays a member: assigned, it would set the prototype
 * and the field would vanish from the record. Every copy of a record's members goes through it.
 */
export function setMember<T>(out: { [key: string]: T }, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/** A driver row to a {@link SourceRecord}, cut where it nests too deep. */
export function toRecord(row: Record<string, unknown>): SourceRecord {
  const out: SourceRecord = {};
  // The row is the first level: its fields sit inside it.
  for (const [k, v] of Object.entries(row)) setMember(out, k, toJsonValue(v, 1, true));
  return out;
}
