/**
 * PostgreSQL values to plain JSON, via node-postgres type parsers given to each pool (the
 * `types` option), never by mutating pg's global parsers: other code in the process keeps
 * pg's defaults.
 *
 * - `numeric`, `money`: strings, exact;
 * - `int8`: always a string. A column keeps one JSON type whatever its values, and ids
 *   beyond 2^53 stay exact (int2/int4 are numbers);
 * - `timestamptz`: UTC ISO-8601 (`…Z`), microseconds kept when present; `timestamp`: the wall
 *   clock with the source's `timezone` offset; `date`: `YYYY-MM-DD`; `interval`, `time`: as
 *   PostgreSQL writes them;
 * - `json`/`jsonb`: parsed, numbers a JS number cannot hold exactly kept as strings
 *   ({@link pgJsonParse}); `bytea`: base64 (by `toRecord`); arrays element by element.
 */
import pg from 'pg';
import type { CustomTypesConfig } from 'pg';
import type { FieldType } from '../types.js';
import { parseExactJson } from '../json.js';
import type { ColumnInfo } from './driver.js';
import { isoToWallClock, pgTimestampToIso, pgTimestamptzToIso } from './time-values.js';

/** Type OIDs from `pg_type` that get a parser here or a field type in `discover()`. */
export const PG_OID = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  jsonArray: 199,
  float4: 700,
  float8: 701,
  money: 790,
  moneyArray: 791,
  boolArray: 1000,
  byteaArray: 1001,
  int2Array: 1005,
  int4Array: 1007,
  textArray: 1009,
  int8Array: 1016,
  float4Array: 1021,
  float8Array: 1022,
  varcharArray: 1015,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestampArray: 1115,
  dateArray: 1182,
  timestamptz: 1184,
  timestamptzArray: 1185,
  interval: 1186,
  intervalArray: 1187,
  numericArray: 1231,
  timetz: 1266,
  numeric: 1700,
  uuid: 2950,
  uuidArray: 2951,
  jsonb: 3802,
  jsonbArray: 3807,
} as const;

type TextParser = (value: string) => unknown;

const asText: TextParser = (value) => value;

// pg-types 2 exports `arrayParser.create(text, fn).parse()`; its typings describe a later API.
const arrayParser = pg.types.arrayParser as unknown as { create(text: string, element: TextParser): { parse(): unknown[] } };

function arrayOf(element: TextParser): TextParser {
  return (value) => arrayParser.create(value, element).parse();
}

/**
 * `json`/`jsonb` text to values, numbers exact ({@link parseExactJson}). Nesting past the
 * lossless parser's recursion goes to JSON.parse, and the row's depth limit (json.ts) refuses
 * it with CONN_BAD_RESPONSE rather than a bare RangeError here.
 */
export function pgJsonParse(text: string): unknown {
  try {
    return parseExactJson(text);
  } catch (err) {
    if (err instanceof RangeError) return JSON.parse(text);
    throw err;
  }
}

/** The text parser for `oid` in a source whose wall-clock times are in `zone`. */
export function pgTextParser(oid: number, zone: string): TextParser {
  switch (oid) {
    case PG_OID.numeric:
    case PG_OID.int8:
    case PG_OID.money:
    case PG_OID.date:
    case PG_OID.interval:
      return asText;
    case PG_OID.numericArray:
    case PG_OID.int8Array:
    case PG_OID.moneyArray:
    case PG_OID.dateArray:
    case PG_OID.intervalArray:
      return arrayOf(asText);
    case PG_OID.timestamptz:
      return pgTimestamptzToIso;
    case PG_OID.timestamptzArray:
      return arrayOf(pgTimestamptzToIso);
    case PG_OID.timestamp:
      return (value) => pgTimestampToIso(value, zone);
    case PG_OID.timestampArray:
      return arrayOf((value) => pgTimestampToIso(value, zone));
    case PG_OID.json:
    case PG_OID.jsonb:
      return pgJsonParse;
    case PG_OID.jsonArray:
    case PG_OID.jsonbArray:
      return arrayOf(pgJsonParse);
    default:
      return pg.types.getTypeParser(oid, 'text') as TextParser;
  }
}

/** The `types` option of a pg Pool: these parsers for text results, pg's own for binary. */
export function pgTypesConfig(zone: string): CustomTypesConfig {
  const cache = new Map<number, TextParser>();
  const getTypeParser = (oid: number, format?: 'text' | 'binary') => {
    if (format === 'binary') return pg.types.getTypeParser(oid, 'binary');
    let parser = cache.get(oid);
    if (!parser) {
      parser = pgTextParser(oid, zone);
      cache.set(oid, parser);
    }
    return parser;
  };
  return { getTypeParser } as CustomTypesConfig;
}

const ARRAY_OIDS: ReadonlySet<number> = new Set([
  PG_OID.jsonArray, PG_OID.moneyArray, PG_OID.boolArray, PG_OID.byteaArray, PG_OID.int2Array, PG_OID.int4Array, PG_OID.textArray,
  PG_OID.int8Array, PG_OID.float4Array, PG_OID.float8Array, PG_OID.varcharArray, PG_OID.timestampArray, PG_OID.dateArray,
  PG_OID.timestamptzArray, PG_OID.intervalArray, PG_OID.numericArray, PG_OID.uuidArray, PG_OID.jsonbArray,
]);

/**
 * What `discover()` reports for a column of type `oid`: the kind of value, not its JSON
 * carrier (`int8` is an integer and `numeric` a number, both emitted as strings). Unknown
 * types (enums, domains, extensions) arrive as text.
 */
export function pgFieldType(oid: number): FieldType {
  switch (oid) {
    case PG_OID.bool:
      return 'boolean';
    case PG_OID.int2:
    case PG_OID.int4:
    case PG_OID.int8:
    case PG_OID.oid:
      return 'integer';
    case PG_OID.float4:
    case PG_OID.float8:
    case PG_OID.numeric:
      return 'number';
    case PG_OID.timestamp:
    case PG_OID.timestamptz:
      return 'datetime';
    case PG_OID.json:
    case PG_OID.jsonb:
      return 'object';
    case PG_OID.bytea:
      return 'binary';
    default:
      return ARRAY_OIDS.has(oid) ? 'array' : 'string';
  }
}

/** The type's name for `ColumnInfo.dbType` (the OID when it is not one of ours). */
export function pgTypeName(oid: number): string {
  const entry = Object.entries(PG_OID).find(([, v]) => v === oid);
  return entry ? entry[0] : `oid:${oid}`;
}

/**
 * A checkpoint value bound for a comparison with `column`. A `timestamp` (without time zone)
 * column gets the wall clock in `zone` of a value with an offset: PostgreSQL would drop the
 * offset (see {@link isoToWallClock}). Anything else is bound as is: PostgreSQL infers the
 * type from the column it is compared to, and `timestamptz` honours the offset.
 */
export function pgBindValue(value: string | number, column: ColumnInfo, zone: string): string | number {
  return typeof value === 'string' && column.dbType === 'timestamp' ? isoToWallClock(value, zone) : value;
}
