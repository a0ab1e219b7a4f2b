/**
 * Oracle values to plain JSON, and checkpoint values back to Oracle binds. The decisions are
 * per column (from its metadata), so a column keeps one JSON type whatever its values:
 *
 * - `NUMBER(p, 0)` with p <= 15: a JS number (always a safe integer); any other NUMBER
 *   (decimals, FLOAT, unconstrained NUMBER, computed columns) is fetched as a string, exact;
 * - `TIMESTAMP WITH (LOCAL) TIME ZONE`: an instant, UTC ISO-8601 to the millisecond (the
 *   precision node-oracledb returns);
 * - `DATE`, `TIMESTAMP`: a wall clock, emitted with the source's `timezone` offset. oracledb
 *   hands these over as a Date holding the wall clock in the process's local time, so the
 *   local fields are read back (and written back the same way when binding). That is exact
 *   only in a zone without DST gaps: the driver pins the process to UTC (process-zone.ts);
 * - `CLOB`/`NCLOB`: fetched as strings; `BLOB`/`RAW`: buffers, then base64.
 */
import type { DbType, FetchTypeResult, Metadata } from 'oracledb';
import { JunctionError } from '../../config/errors.js';
import type { FieldType } from '../types.js';
import type { ColumnInfo } from './driver.js';
import { isoToWallClock, localWallClock, parseIso, wallClockToIso } from './time-values.js';

/** The oracledb type tokens the conversions need (from the lazily imported module). */
export interface OracleTypeTokens {
  STRING: DbType;
  BUFFER: DbType;
  DB_TYPE_DATE: DbType;
  DB_TYPE_TIMESTAMP: DbType;
  DB_TYPE_TIMESTAMP_TZ: DbType;
  DB_TYPE_TIMESTAMP_LTZ: DbType;
}

/** Larger integers than this many digits may exceed 2^53. */
const SAFE_INTEGER_DIGITS = 15;

const WALL_CLOCK_TYPES = new Set(['DATE', 'TIMESTAMP']);
const INSTANT_TYPES = new Set(['TIMESTAMP WITH TIME ZONE', 'TIMESTAMP WITH LOCAL TIME ZONE']);

/** True for `NUMBER(p, 0)` columns whose values always fit a JS number exactly. */
export function isSafeIntegerColumn(meta: Pick<Metadata, 'dbTypeName' | 'precision' | 'scale'>): boolean {
  return meta.dbTypeName === 'NUMBER' && meta.scale === 0 && (meta.precision ?? 0) > 0 && (meta.precision ?? 0) <= SAFE_INTEGER_DIGITS;
}

/** A DATE or TIMESTAMP value (a Date holding the wall clock in local time) as ISO with `zone`'s offset. */
export function oracleWallClockToIso(value: Date, zone: string): string {
  return wallClockToIso(localWallClock(value), zone);
}

/**
 * The `fetchTypeHandler` of every statement: exact NUMBERs and LOBs as strings, BLOBs as
 * buffers, DATE/TIMESTAMP as wall-clock ISO text. Returning undefined keeps oracledb's default.
 */
export function oracleFetchTypeHandler(types: OracleTypeTokens, zone: string): (meta: Metadata) => FetchTypeResult | undefined {
  const wallClock: FetchTypeResult = {
    converter: (v) => (v instanceof Date ? oracleWallClockToIso(v, zone) : v),
  };
  return (meta) => {
    switch (meta.dbTypeName) {
      case 'NUMBER':
        return isSafeIntegerColumn(meta) ? undefined : { type: types.STRING };
      case 'CLOB':
      case 'NCLOB':
        return { type: types.STRING };
      case 'BLOB':
        return { type: types.BUFFER };
      case 'DATE':
      case 'TIMESTAMP':
        return wallClock;
      default:
        return undefined;
    }
  };
}

/** What `discover()` reports for an Oracle column. */
export function oracleFieldType(meta: Pick<Metadata, 'dbTypeName' | 'precision' | 'scale'>): FieldType {
  const name = meta.dbTypeName ?? '';
  if (name === 'NUMBER') return meta.scale === 0 && (meta.precision ?? 0) > 0 ? 'integer' : 'number';
  if (name === 'BINARY_FLOAT' || name === 'BINARY_DOUBLE' || name === 'BINARY_INTEGER') return 'number';
  if (WALL_CLOCK_TYPES.has(name) || INSTANT_TYPES.has(name)) return 'datetime';
  if (name === 'BLOB' || name === 'RAW' || name === 'LONG RAW' || name === 'BFILE') return 'binary';
  if (name === 'JSON' || name === 'OBJECT') return 'object';
  if (name === 'BOOLEAN') return 'boolean';
  if (name === 'VECTOR') return 'array';
  return name ? 'string' : 'mixed';
}

/** Column metadata to {@link ColumnInfo}. */
export function oracleColumn(meta: Metadata): ColumnInfo {
  return { name: meta.name, type: oracleFieldType(meta), nullable: meta.nullable ?? true, dbType: meta.dbTypeName ?? 'UNKNOWN' };
}

/** `YYYY-MM-DD[ HH:MM[:SS[.fraction]]]`: a wall clock as isoToWallClock writes it (or a text without an offset). */
const WALL_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$/;

/** True for the DATE and TIMESTAMP types (wall clocks and instants) a time checkpoint is bound to. */
export function isOracleTimeColumn(column: Pick<ColumnInfo, 'dbType'>): boolean {
  return WALL_CLOCK_TYPES.has(column.dbType) || INSTANT_TYPES.has(column.dbType);
}

/** An Oracle bind: a value and, for times, the type to bind it as. */
export type OracleBind = string | number | { val: Date; type: DbType };

/**
 * A checkpoint value bound for a comparison with `column`, in the column's own type so the
 * cursor index stays usable: instants as TIMESTAMP WITH (LOCAL) TIME ZONE, wall clocks as
 * DATE or TIMESTAMP in `zone`. Numbers and strings are bound as they are (Oracle converts a
 * string compared with a NUMBER column to NUMBER).
 * @throws CONN_CURSOR when a time column's checkpoint value is not ISO-8601
 */
export function oracleBindValue(value: string | number, column: ColumnInfo, zone: string, types: OracleTypeTokens): OracleBind {
  const instant = INSTANT_TYPES.has(column.dbType);
  if (!instant && !WALL_CLOCK_TYPES.has(column.dbType)) return value;
  const dt = typeof value === 'string' ? parseIso(value, zone) : undefined;
  if (!dt) {
    throw new JunctionError('CONN_CURSOR', `checkpoint value ${JSON.stringify(value)} for ${column.name} (${column.dbType}) is not an ISO-8601 time`, {
      details: { column: column.name, dbType: column.dbType },
    });
  }
  if (instant) {
    return { val: dt.toJSDate(), type: column.dbType === 'TIMESTAMP WITH TIME ZONE' ? types.DB_TYPE_TIMESTAMP_TZ : types.DB_TYPE_TIMESTAMP_LTZ };
  }
  // oracledb writes DATE/TIMESTAMP binds from the Date's local fields: put the wall clock there.
  // The wall clock as written when its offset is the zone's own (what this connector emits),
  // one inside a DST gap included: through an instant, 02:30+02:00 in Berlin on the day
  // clocks jump from 02:00 to 03:00 would come back as 01:30 and re-read that hour.
  const m = WALL_TEXT.exec(typeof value === 'string' ? isoToWallClock(value, zone) : '');
  const w = dt.setZone(zone);
  const local = m
    ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), Number((m[7] ?? '').padEnd(3, '0').slice(0, 3)))
    : new Date(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);
  return { val: local, type: column.dbType === 'DATE' ? types.DB_TYPE_DATE : types.DB_TYPE_TIMESTAMP };
}
