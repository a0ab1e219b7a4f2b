/**
 * From a parsed SOAP result to records: the record path, value conversion to plain JSON and
 * the `soap` package's deserializers for XSD types.
 */
import { JunctionError } from '../../config/errors.js';
import { toJsonValue } from '../json.js';
import type { JsonValue, SourceRecord } from '../types.js';

const asText = (text: string) => text;

const INTEGER_TEXT = /^[+-]?\d+$/;

/**
 * An XSD integer as a number only while it is one and exact: digits beyond 2^53 would be lost
 * (they stay strings, like `json.ts` does), and the `soap` package's own parseInt turned `1.5`
 * into 1 and a garbled value into null. Anything else stays the text the service sent.
 */
function integer(text: string): number | string {
  if (!INTEGER_TEXT.test(text)) return text;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/**
 * `customDeserializer` for the `soap` client, keyed by XSD type name. Times stay exactly as
 * the service sent them (ISO-8601 with its offset) instead of becoming `Date`s that drop
 * the offset and anything below a millisecond; `xsd:decimal` stays a string because it is
 * exact (money); integers of every width are numbers only while exact (see {@link integer}).
 */
export const XSD_DESERIALIZERS: Record<string, (text: string) => unknown> = {
  dateTime: asText,
  date: asText,
  time: asText,
  decimal: asText,
  int: integer,
  short: integer,
  byte: integer,
  unsignedInt: integer,
  unsignedShort: integer,
  unsignedByte: integer,
  long: integer,
  integer: integer,
  unsignedLong: integer,
  nonNegativeInteger: integer,
  positiveInteger: integer,
  negativeInteger: integer,
  nonPositiveInteger: integer,
};

/** The value at a dotted path (`orders.order`), or undefined when a step is missing. */
export function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const step of path.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[step];
  }
  return node;
}

/** Where records come from, for errors: the source and the stream or lookup calling `operation`. */
export interface RecordsFrom {
  source: string;
  operation: string;
  stream?: string | undefined;
  lookup?: string | undefined;
  /** The field holding a record's key, to name the record an error is about. */
  key?: string | undefined;
}

function describe(from: RecordsFrom): string {
  const who = from.stream !== undefined ? `stream ${from.stream}: ` : from.lookup !== undefined ? `lookup ${from.lookup}: ` : '';
  return `${who}${from.operation} response`;
}

/**
 * `item` as plain JSON. A stream's record nested too deep is cut (the map stage dead-letters
 * it, json.ts); a lookup's answer nested too deep fails the lookup, naming the record's key
 * when it has one.
 */
function plain(item: unknown, from: RecordsFrom, path: string): JsonValue {
  try {
    return toJsonValue(item, 0, from.stream !== undefined);
  } catch (err) {
    if (!(err instanceof JunctionError)) throw err;
    const key = from.key === undefined ? undefined : (item as Record<string, unknown> | null)?.[from.key];
    throw new JunctionError(err.code, `${describe(from)}: a record at ${path}: ${err.message}`, {
      cause: err,
      where: { source: from.source, key: typeof key === 'string' || typeof key === 'number' ? String(key) : undefined },
      details: { ...err.details, stream: from.stream, lookup: from.lookup, operation: from.operation, recordPath: path },
    });
  }
}

/**
 * The records at `path`. XML has no arrays: a list of one element may be parsed as a lone
 * object, and an empty list as null or nothing, so all three are normalised here.
 */
export function recordsAt(result: unknown, path: string, from: RecordsFrom): SourceRecord[] {
  const value = valueAt(result, path);
  if (value === undefined || value === null || value === '') return [];
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, i) => {
    const json = plain(item, from, path);
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new JunctionError('CONN_BAD_RESPONSE', `${describe(from)}: item ${i} at ${path} is not a record`, {
        where: { source: from.source },
        details: { stream: from.stream, lookup: from.lookup, operation: from.operation, recordPath: path, item: i },
      });
    }
    return json as SourceRecord;
  });
}

/** A whole result as a record (lookups without a record path). */
export function resultRecord(result: unknown, from: RecordsFrom): SourceRecord | null {
  const json: JsonValue = plain(result, from, 'the top level');
  if (json === null) return null;
  return typeof json === 'object' && !Array.isArray(json) ? json : { value: json };
}
