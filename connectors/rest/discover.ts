/**
 * Field types inferred from a sample page, for `junction discover`. Types describe the
 * records as they leave the connector: the PHP API's numbers are strings, so they show as
 * strings (the mapping layer converts); strings that all read as times show as datetime.
 */
import { DateTime } from 'luxon';
import type { FieldInfo, FieldType, JsonValue, SourceRecord } from '../types.js';
import type { CursorFormat } from './cursor.js';

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

function isTime(value: string, format: CursorFormat | undefined): boolean {
  if (ISO_DATETIME.test(value)) return true;
  if (!format || ['iso', 'unix', 'unix_ms'].includes(format.format)) return false;
  return DateTime.fromFormat(value, format.format, { zone: format.timezone }).isValid;
}

function typeOf(value: JsonValue, format: CursorFormat | undefined): FieldType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return isTime(value, format) ? 'datetime' : 'string';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'boolean':
      return 'boolean';
    default:
      return 'object';
  }
}

function merge(a: FieldType | undefined, b: FieldType): FieldType {
  if (a === undefined || a === b) return b;
  const pair = new Set([a, b]);
  if (pair.has('integer') && pair.has('number')) return 'number';
  if (pair.has('datetime') && pair.has('string')) return 'string';
  return 'mixed';
}

/** The fields of `records` in first-seen order; a field missing from some records is nullable. */
export function inferFields(records: readonly SourceRecord[], format?: CursorFormat): FieldInfo[] {
  const types = new Map<string, { type: FieldType | undefined; nullable: boolean; count: number }>();
  for (const record of records) {
    for (const [name, value] of Object.entries(record)) {
      const seen = types.get(name) ?? { type: undefined, nullable: false, count: 0 };
      seen.count += 1;
      if (value === null) seen.nullable = true;
      else seen.type = merge(seen.type, typeOf(value, format));
      types.set(name, seen);
    }
  }
  return [...types].map(([name, t]) => ({ name, type: t.type ?? 'null', nullable: t.nullable || t.count < records.length }));
}
