/**
 * A start the caller chose (`read --since X`, a backfill's `--from X`) that the cursor field
 * cannot hold. MongoDB compares values within one BSON type only, so `{updatedAt: {$gte:
 * 1700000000}}` on a field of dates matches nothing and the read is silently empty. When a
 * read from such a start finds nothing, the connector asks for one document whose cursor
 * field is of a type none of the start's values ({@link cursorToBson}) compares with
 * ({@link otherCursorTypes}); finding one, the read fails with {@link startMisfit}.
 */
import { JunctionError } from '../../config/errors.js';
import type { Checkpoint } from '../types.js';
import { cursorToBson } from './query.js';

/** The `$type` aliases of the scalar values a cursor field may hold. */
const CURSOR_TYPES = ['date', 'number', 'string', 'objectId', 'bool', 'timestamp'] as const;
type CursorType = (typeof CURSOR_TYPES)[number];

const HOLDS: Record<CursorType, string> = {
  date: 'dates',
  number: 'numbers',
  string: 'text',
  objectId: 'ObjectIds',
  bool: 'booleans',
  timestamp: 'BSON timestamps',
};

const NUMBER_TAGS = new Set(['Long', 'Int32', 'Double', 'Decimal128']);

/** The `$type` alias of a value as the driver returns it; undefined for anything else (arrays, documents). */
function cursorTypeOf(value: unknown): CursorType | undefined {
  if (value instanceof Date) return 'date';
  if (typeof value === 'number' || typeof value === 'bigint') return 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  const tag = (value as { _bsontype?: unknown } | null | undefined)?._bsontype;
  if (typeof tag !== 'string') return undefined;
  if (NUMBER_TAGS.has(tag)) return 'number';
  return tag === 'ObjectId' ? 'objectId' : tag === 'Timestamp' ? 'timestamp' : undefined;
}

/** The types of the values `start` stands for: what a read from it can match. */
function startTypes(start: string | number): Set<CursorType> {
  return new Set(cursorToBson(start).map(cursorTypeOf).filter((t) => t !== undefined));
}

/** The `$type` aliases a cursor field may hold that no value of `start` compares with. */
export function otherCursorTypes(start: string | number): CursorType[] {
  const fits = startTypes(start);
  return CURSOR_TYPES.filter((t) => !fits.has(t));
}

/** `2023-11-14T22:13:20Z`: an ISO-8601 example without the zero milliseconds. */
const isoExample = (date: Date) => date.toISOString().replace('.000Z', 'Z');

/**
 * How to give a start the field can hold. A number for dates is most likely epoch seconds
 * (or milliseconds past 1e11), so the example is that instant; otherwise the value found.
 */
function hint(start: string | number, found: unknown, type: CursorType | undefined): string {
  if (type === 'date') {
    const n = Number(start);
    const epoch = Number.isFinite(n) ? new Date(Math.abs(n) < 1e11 ? n * 1000 : n) : undefined;
    const example = epoch && !Number.isNaN(epoch.getTime()) ? epoch : (found as Date);
    return `give a date such as ${isoExample(example).slice(0, 10)} or ${isoExample(example)}`;
  }
  if (type === 'number') return 'give a number';
  if (type === 'string') return 'give the text as the field holds it';
  return 'a start can only be a date or a number';
}

/**
 * CONN_CURSOR for a read from `start` that found nothing because `found`, the cursor value
 * of a document of `collection`, is of a type the start cannot compare with.
 */
export function startMisfit(at: { source: string; stream: string; collection: string; field: string }, start: string | number, found: unknown): JunctionError {
  const type = cursorTypeOf(found);
  const fits = startTypes(start);
  const given = fits.has('number') ? 'a number' : fits.has('date') ? 'a date' : 'text';
  const holds = type === undefined ? 'values of another type' : HOLDS[type];
  const checkpoint: Checkpoint = { cursor: start, key: null };
  return new JunctionError(
    'CONN_CURSOR',
    `stream ${at.stream}: the start ${start} is ${given} but ${at.collection}.${at.field} holds ${holds} (MongoDB compares values of one type only, so the read finds nothing): ${hint(start, found, type)}`,
    { where: { source: at.source }, details: { checkpoint, field: at.field, type: type ?? null } },
  );
}
