/**
 * The key of a checkpoint as text that keeps its BSON type. The key is stored as text
 * (`hub.checkpoint.cursor_key`, `String(key)`), and MongoDB compares values only within one
 * type (`{_id: {$gt: ObjectId(…)}}` never matches a string `_id`), so a key that comes back
 * as the wrong type makes a resumed read silently return nothing.
 *
 * - an ObjectId `_id` is its 24 hex digits, as checkpoints always stored it; an ObjectId in
 *   another key field is `$oid:<hex>` (plain hex there always meant a string);
 * - a string is itself, unless it would read back as another type (24 hex digits in `_id`, a
 *   number, an ISO date-time) or starts with `$`: then `$str:<string>`;
 * - a number (int, long, double) is `$num:<digits>`, a Decimal128 `$dec:<digits>`, a date
 *   `$date:<ISO-8601>`, binary data (UUIDs) `$bin:<subtype>:<base64>`.
 *
 * Checkpoints stored before the types were kept hold numbers and dates as plain text
 * (`"5"`, `"2025-06-01T00:00:00.000Z"`), which could also be strings: such a key stands for
 * both, and the read asks for either. MongoDB's per-type comparison makes that exact when
 * the key field holds one type. Plain 24 hex digits in `_id` stay an ObjectId: a string `_id`
 * stored that way cannot be told apart (its stream resumes once its cursor moves on).
 */
import { Binary, Decimal128, Long, ObjectId } from 'mongodb';
import { JunctionError } from '../../config/errors.js';
// How json.ts writes a date, hence how a date key was stored before `$date:`.
import { isIsoWithOffset } from '../cursor-value.js';

/** An ObjectId as its hex text (json.ts writes it so). */
export const OBJECT_ID_HEX = /^[0-9a-f]{24}$/i;
/** What `String(number)`, `Long#toString` and `Decimal128#toString` write. */
const NUMBER_TEXT = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;
const INTEGER_TEXT = /^-?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A BSON value from the driver, by its tag (as json.ts reads it). */
interface Tagged {
  _bsontype?: string;
}

/**
 * The number `text` is when it is exactly how the driver's numbers print: `String(n)` of a
 * JS number (int32, double, a long within 2^53) or `Long#toString` of a wider long.
 * Otherwise undefined: `"007"` or `"1.50"` can only have been strings.
 */
export function plainNumber(text: string): number | Long | undefined {
  if (!NUMBER_TEXT.test(text)) return undefined;
  if (!INTEGER_TEXT.test(text)) {
    const n = Number(text);
    return String(n) === text ? n : undefined;
  }
  const big = BigInt(text);
  if (big.toString() !== text) return undefined;
  if (big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(big);
  return big >= INT64_MIN && big <= INT64_MAX ? Long.fromBigInt(big) : undefined;
}

/** Whether a string key written as itself would be read back as something else too. */
function ambiguous(field: string, text: string): boolean {
  if (text.startsWith('$')) return true;
  const read = unprefixed(field, text);
  return read.length !== 1 || read[0] !== text;
}

/**
 * The checkpoint key of a document whose key field `field` holds `value` (as the driver
 * returns it); undefined for a value a read cannot resume after (missing, null, a boolean,
 * a document, an array, a timestamp).
 */
export function encodeKey(field: string, value: unknown): string | undefined {
  if (typeof value === 'string') return ambiguous(field, value) ? `$str:${value}` : value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return `$num:${String(value)}`;
  } else if (typeof value === 'bigint') {
    return `$num:${value.toString()}`;
  } else if (value instanceof Date) {
    if (!Number.isNaN(value.getTime())) return `$date:${value.toISOString()}`;
  } else if (value !== null && typeof value === 'object') {
    switch ((value as Tagged)._bsontype) {
      case 'ObjectId':
      case 'ObjectID': {
        const hex = (value as ObjectId).toHexString();
        return field === '_id' ? hex : `$oid:${hex}`;
      }
      case 'Long':
        return `$num:${String(value)}`;
      case 'Decimal128': {
        // Its own prefix: a double of the same digits is another value (0.1 is not 0.1).
        const text = String(value);
        if (NUMBER_TEXT.test(text)) return `$dec:${text}`;
        break;
      }
      case 'Int32':
      case 'Double':
        return encodeKey(field, (value as { valueOf(): number }).valueOf());
      case 'Binary': {
        const binary = value as Binary;
        return `$bin:${binary.sub_type}:${Buffer.from(binary.buffer).toString('base64')}`;
      }
      default:
        break;
    }
  }
  return undefined;
}

const PREFIXED = /^\$(str|oid|num|dec|date|bin):(.*)$/s;

/**
 * The BSON values a checkpoint key stands for: one, or two for a number or date stored
 * before the types were kept (see the module comment). A key whose `$` prefix is not one of
 * ours is a string stored as itself.
 */
export function decodeKey(field: string, key: string | number | null): unknown[] {
  if (key === null || typeof key === 'number') return [key];
  const prefixed = PREFIXED.exec(key);
  if (prefixed) {
    const [, type, text] = prefixed as unknown as [string, string, string];
    switch (type) {
      case 'str':
        return [text];
      case 'oid':
        if (OBJECT_ID_HEX.test(text)) return [ObjectId.createFromHexString(text)];
        break;
      case 'num': {
        const n = plainNumber(text);
        if (n !== undefined) return [n];
        break;
      }
      case 'dec':
        try {
          if (NUMBER_TEXT.test(text)) return [Decimal128.fromString(text)];
        } catch {
          // More digits than a Decimal128 holds: refused below.
        }
        break;
      case 'date': {
        const date = new Date(text);
        if (isIsoWithOffset(text) && !Number.isNaN(date.getTime())) return [date];
        break;
      }
      case 'bin': {
        const bin = /^(\d{1,3}):([A-Za-z0-9+/]*={0,2})$/.exec(text);
        if (bin && Number(bin[1]) <= 255) return [new Binary(Buffer.from(bin[2]!, 'base64'), Number(bin[1]))];
        break;
      }
    }
    throw new JunctionError('CONN_CURSOR', `checkpoint key ${JSON.stringify(key)} is not a valid ${type} value`);
  }
  return unprefixed(field, key);
}

/** A key without one of our prefixes: as checkpoints stored keys before `$str:` and the rest. */
function unprefixed(field: string, key: string): unknown[] {
  if (key.startsWith('$')) return [key];
  if (field === '_id' && OBJECT_ID_HEX.test(key)) return [ObjectId.createFromHexString(key)];
  const legacy = NUMBER_TEXT.test(key) ? plainNumber(key) : isIsoWithOffset(key) ? new Date(key) : undefined;
  if (legacy === undefined || (legacy instanceof Date && Number.isNaN(legacy.getTime()))) return [key];
  return [legacy, key];
}
