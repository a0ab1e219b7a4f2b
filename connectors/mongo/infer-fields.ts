/**
 * Field types inferred from a sample of BSON documents, named by what the reader emits
 * (json.ts): ObjectId, Decimal128 and Long leave as strings, dates as ISO-8601 (`datetime`),
 * Binary as base64 (`binary`). A field absent or null in some sampled document is nullable;
 * a field with several non-null types is `mixed` (integer and number merge into number).
 */
import type { Document } from 'mongodb';
import type { FieldInfo, FieldType } from '../types.js';

function bsonType(value: unknown): FieldType {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'bigint':
      return 'string';
    case 'object':
      break;
    default:
      return 'mixed';
  }
  if (value instanceof Date) return 'datetime';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'binary';
  switch ((value as { _bsontype?: string })._bsontype) {
    case 'ObjectId':
    case 'Decimal128':
    case 'Long':
    case 'Timestamp':
      return 'string';
    case 'Int32':
      return 'integer';
    case 'Double':
      return 'number';
    case 'Binary':
      return 'binary';
    default:
      return 'object';
  }
}

function merge(a: FieldType, b: FieldType): FieldType {
  if (a === b) return a;
  if (a === 'null') return b;
  if (b === 'null') return a;
  if ((a === 'integer' && b === 'number') || (a === 'number' && b === 'integer')) return 'number';
  return 'mixed';
}

/** Top-level fields of `docs` in first-seen order. */
export function inferFields(docs: readonly Document[]): FieldInfo[] {
  const types = new Map<string, FieldType>();
  const seen = new Map<string, number>();
  const nulls = new Set<string>();
  for (const doc of docs) {
    for (const [name, value] of Object.entries(doc)) {
      const type = bsonType(value);
      types.set(name, merge(types.get(name) ?? 'null', type));
      seen.set(name, (seen.get(name) ?? 0) + 1);
      if (type === 'null') nulls.add(name);
    }
  }
  return [...types].map(([name, type]) => ({
    name,
    type,
    nullable: nulls.has(name) || (seen.get(name) ?? 0) < docs.length,
  }));
}
