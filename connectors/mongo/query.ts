/**
 * Query documents for keyset reading of a MongoDB collection on the compound cursor
 * `(field, key)`, and the conversion of a JSON checkpoint back to BSON values.
 *
 * MongoDB compares values only within one type (`{f: {$gte: "2020-01-01"}}` never matches a
 * date), and checkpoint values are JSON, so before querying:
 * - the key is decoded by checkpoint-key.ts, which keeps its type;
 * - a date or date-time cursor (`2025-06-30T00:00:00.000Z` as `json.ts` writes a BSON date,
 *   `read --since 2020-01-01`; without an offset it is UTC, as connectors/cursor-value.ts
 *   reads it) and a number in text (`"100"`, or an int64 past 2^53, which json.ts writes as
 *   text) stand for that date or number *or* the string itself: the predicate asks for
 *   either, and the per-type comparison keeps that exact for a field of one type. The
 *   checkpoint of a field of ISO *strings* is such text too: taken for a date alone, it
 *   matched nothing there and every later read came back empty.
 * Numbers stay numbers: MongoDB compares int, long and double by value.
 */
import { type Document, type Filter, type Sort } from 'mongodb';
import { JunctionError } from '../../config/errors.js';
// A leaf module: the same reading of a typed time as the CLI check and the backfill range.
import { cursorKind, cursorTime, isIsoWithOffset } from '../cursor-value.js';
import type { Checkpoint } from '../types.js';
import { decodeKey, plainNumber } from './checkpoint-key.js';

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

/** The BSON values a checkpoint's cursor value stands for (see the module comment). */
export function cursorToBson(value: string | number): unknown[] {
  if (typeof value === 'number') return [value];
  if (isIsoWithOffset(value)) {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new JunctionError('CONN_CURSOR', `checkpoint cursor ${JSON.stringify(value)} is not a valid time`);
    return [date, value];
  }
  const time = cursorTime(value);
  if (time !== null) return [new Date(time), value];
  // A number as `sync --from` and `read --since` accept one.
  const number = plainNumber(value) ?? (cursorKind(value) === 'number' ? Number(value) : undefined);
  return number === undefined ? [value] : [number, value];
}

/** One clause, or `$or` of several. */
function anyOf(clauses: Document[]): Document {
  return clauses.length === 1 ? clauses[0]! : { $or: clauses };
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
    const f = spec.cursor;
    return anyOf(cursorToBson(checkpoint.cursor).map((c) => ({ [f]: { $gte: c } })));
  }
  const keyAfter = anyOf(decodeKey(spec.key, checkpoint.key).map((k) => ({ [spec.key]: { $gt: k } })));
  if (spec.cursor === undefined) return keyAfter;
  const f = spec.cursor;
  if (checkpoint.cursor === null) {
    return { $or: [{ [f]: null, ...keyAfter }, { [f]: { $ne: null } }] };
  }
  return anyOf(cursorToBson(checkpoint.cursor).flatMap((c) => [{ [f]: { $gt: c } }, { [f]: c, ...keyAfter }]));
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
