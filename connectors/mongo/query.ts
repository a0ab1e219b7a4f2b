/**
 * Query documents for keyset reading of a MongoDB collection on the compound cursor
 * `(field, key)`, and the conversion of a JSON checkpoint back to BSON values.
 *
 * Checkpoint values are JSON (what the records carried), so before querying:
 * - the key becomes an ObjectId when the key field is `_id` and the value is 24 hex digits;
 * - the cursor becomes a Date when it is an ISO-8601 date-time string with an offset
 *   (`2025-06-30T00:00:00.000Z`), which is how `json.ts` writes a BSON date. A cursor field
 *   holding ISO-looking *strings* is therefore not supported: use a BSON date (or a number).
 * Numbers stay numbers: MongoDB compares int, long and double by value.
 */
import { ObjectId, type Document, type Filter, type Sort } from 'mongodb';
import { JunctionError } from '../../config/errors.js';
import type { Checkpoint } from '../types.js';

/** Operators that run JavaScript or arbitrary expressions on the server: never in configured filters. */
export const FORBIDDEN_OPERATORS = ['$where', '$function', '$accumulator', '$expr'] as const;

/** The first forbidden operator anywhere in `doc` (keys at any depth), with its path. */
export function findForbiddenOperator(doc: unknown, path = ''): { operator: string; path: string } | undefined {
  if (doc === null || typeof doc !== 'object') return undefined;
  for (const [key, value] of Object.entries(doc)) {
    const here = path ? `${path}.${key}` : key;
    if ((FORBIDDEN_OPERATORS as readonly string[]).includes(key)) return { operator: key, path: here };
    const inner = findForbiddenOperator(value, here);
    if (inner) return inner;
  }
  return undefined;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const OBJECT_ID_HEX = /^[0-9a-f]{24}$/i;

/** A checkpoint's cursor value as the BSON value to compare with. */
export function cursorToBson(value: string | number | null): unknown {
  if (typeof value === 'string' && ISO_WITH_OFFSET.test(value)) {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new JunctionError('CONN_CURSOR', `checkpoint cursor ${JSON.stringify(value)} is not a valid time`);
    return date;
  }
  return value;
}

/** A checkpoint's key as the BSON value to compare with. */
export function keyToBson(keyField: string, value: string | number | null): unknown {
  if (keyField === '_id' && typeof value === 'string' && OBJECT_ID_HEX.test(value)) return ObjectId.createFromHexString(value);
  return value;
}

export interface CursorSpec {
  /** The cursor field, or undefined to page by the key alone. */
  cursor: string | undefined;
  key: string;
}

/** Sort order of a keyset read: `{ cursor: 1, key: 1 }`. */
export function keysetSort(spec: CursorSpec): Sort {
  return spec.cursor === undefined ? { [spec.key]: 1 } : { [spec.cursor]: 1, [spec.key]: 1 };
}

/**
 * The predicate "strictly after the checkpoint" on `(cursor, key)`:
 * `{$or: [{f: {$gt: c}}, {f: c, k: {$gt: k}}]}`. A null cursor (documents without the field
 * sort first in MongoDB) continues among the nulls, then takes every non-null value.
 * A null key means "from the cursor value, inclusive": `{f: {$gte: c}}` (a `$gt: null` tie
 * clause would match nothing, as MongoDB brackets comparisons by type).
 */
export function afterCheckpoint(spec: CursorSpec, checkpoint: Checkpoint): Document {
  if (checkpoint.key === null && spec.cursor !== undefined && checkpoint.cursor !== null) {
    return { [spec.cursor]: { $gte: cursorToBson(checkpoint.cursor) } };
  }
  const key = keyToBson(spec.key, checkpoint.key);
  if (spec.cursor === undefined) return { [spec.key]: { $gt: key } };
  const f = spec.cursor;
  if (checkpoint.cursor === null) {
    return { $or: [{ [f]: null, [spec.key]: { $gt: key } }, { [f]: { $ne: null } }] };
  }
  const cursor = cursorToBson(checkpoint.cursor);
  return { $or: [{ [f]: { $gt: cursor } }, { [f]: cursor, [spec.key]: { $gt: key } }] };
}

/** The configured filter and the keyset predicate, merged with `$and` so neither can widen the other. */
export function keysetFilter(base: Document, spec: CursorSpec, checkpoint: Checkpoint | null): Filter<Document> {
  // `{cursor: null, key: null}` is "from the start, inclusive": no predicate at all.
  if (!checkpoint || (checkpoint.cursor === null && checkpoint.key === null)) return base;
  const after = afterCheckpoint(spec, checkpoint);
  return Object.keys(base).length === 0 ? after : { $and: [base, after] };
}

/**
 * The projection to send: an inclusion projection gets the cursor and key fields added (a
 * checkpoint needs them); an exclusion projection may not drop them.
 */
export function effectiveProjection(projection: Record<string, 0 | 1 | boolean> | undefined, spec: CursorSpec): Document | undefined {
  if (!projection || Object.keys(projection).length === 0) return undefined;
  const needed = [spec.key, ...(spec.cursor ? [spec.cursor] : [])];
  const inclusive = Object.entries(projection).some(([k, v]) => k !== '_id' && (v === 1 || v === true));
  if (inclusive) return { ...projection, ...Object.fromEntries(needed.map((f) => [f, 1])) };
  const dropped = needed.filter((f) => projection[f] === 0 || projection[f] === false);
  if (dropped.length > 0) {
    throw new JunctionError('CFG_INVALID_VALUE', `the projection excludes ${dropped.join(', ')}, which the checkpoint needs`);
  }
  return projection;
}
