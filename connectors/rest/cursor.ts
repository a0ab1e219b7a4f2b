/**
 * Ordering of REST cursor values and record keys, so checkpoints compare the way the source
 * sorts. Legacy APIs send times as wall-clock strings (`2025-12-31 23:59:59`, Shanghai), ids
 * as numeric strings; comparing those as plain strings breaks on `"99" > "100"` and on any
 * format that does not sort lexically, so a declared `cursor_format` (luxon) parses them.
 */
import { DateTime } from 'luxon';
import { JunctionError } from '../../config/errors.js';
import type { Checkpoint, JsonValue } from '../types.js';

/** How the source writes its cursor values (`cursor_format:` of a stream). */
export interface CursorFormat {
  /** Luxon tokens (`yyyy-MM-dd HH:mm:ss`), or `iso`, `unix` (seconds), `unix_ms`. */
  format: string;
  /** Zone of values written without an offset. */
  timezone: string;
}

/** A cursor value as it can be ordered: epoch milliseconds (with a fraction), a number, or a string. */
type Rank = number | string;

const INTEGER = /^-?\d+$/;

/** Fraction digits past the millisecond, right after the seconds (`…:05.123456`). */
const SUB_MILLIS = /:\d{2}[.,]\d{3}(\d{1,6})(?!\d)/;

/**
 * The part of a millisecond a time's text names beyond what luxon keeps (it cuts at the
 * millisecond): `…05.123456Z` adds 0.456. An API sorting by microseconds would otherwise
 * have two records at one rank, ordered by key instead of time: out of order for ever, or a
 * record tied with the checkpoint and a lower key dropped. A double keeps a microsecond apart
 * at today's epoch milliseconds (its step there is about 0.2 µs).
 */
function subMillis(value: string | number): number {
  if (typeof value !== 'string') return 0;
  const digits = SUB_MILLIS.exec(value)?.[1];
  return digits === undefined ? 0 : Number(digits.padEnd(6, '0')) / 1e6;
}

/** Orders, parses and formats one stream's cursor values. */
export class CursorCodec {
  constructor(
    private readonly source: string,
    private readonly format: CursorFormat | undefined,
  ) {}

  /** The time a value stands for, when the format is a time format. */
  private parseTime(value: string | number): DateTime | undefined {
    const f = this.format;
    if (!f) return undefined;
    const zone = f.timezone;
    switch (f.format) {
      case 'unix':
        return DateTime.fromSeconds(Number(value), { zone });
      case 'unix_ms':
        return DateTime.fromMillis(Number(value), { zone });
      case 'iso':
        return DateTime.fromISO(String(value), { zone, setZone: true });
      default:
        return DateTime.fromFormat(String(value), f.format, { zone });
    }
  }

  /** The sortable form of a cursor value; CONN_CURSOR when it does not fit the format. */
  rank(value: JsonValue | undefined, key?: JsonValue): Rank {
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw this.error(`cursor value ${JSON.stringify(value ?? null)} is not a string or number`, key);
    }
    if (this.format) {
      const time = this.parseTime(value);
      if (!time?.isValid) throw this.error(`cursor value ${JSON.stringify(value)} does not match cursor_format ${this.format.format}`, key);
      return time.toMillis() + subMillis(value);
    }
    if (typeof value === 'number') return value;
    // Without a format, numeric strings order as numbers and the rest as strings.
    return INTEGER.test(value) && value.length < 16 ? Number(value) : value;
  }

  /** Negative, zero or positive as `a` sorts before, with or after `b`. */
  compare(a: Rank, b: Rank): number {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    return compareText(String(a), String(b));
  }

  /**
   * A checkpoint's cursor in the source's own format, as the API expects it in its filter
   * parameter. Accepts the source's format and, for time formats, ISO-8601 (what a person
   * passes to `junction read --since`).
   */
  toSource(value: string | number): string | number {
    if (!this.format) return value;
    const own = this.parseTime(value);
    if (own?.isValid) return value;
    const iso = typeof value === 'string' ? DateTime.fromISO(value, { zone: this.format.timezone }) : undefined;
    if (!iso?.isValid) throw this.error(`checkpoint cursor ${JSON.stringify(value)} matches neither cursor_format ${this.format.format} nor ISO-8601`);
    const local = iso.setZone(this.format.timezone);
    switch (this.format.format) {
      case 'unix':
        return Math.floor(local.toSeconds());
      case 'unix_ms':
        return local.toMillis();
      case 'iso':
        return local.toISO() ?? String(value);
      default:
        return local.toFormat(this.format.format);
    }
  }

  private error(message: string, key?: JsonValue): JunctionError {
    return new JunctionError('CONN_CURSOR', message, {
      where: { source: this.source, ...(key === undefined || key === null ? {} : { key: String(key) }) },
    });
  }
}

/** Byte-wise (code point) order, the order `ORDER BY` uses under the C collation. */
export function compareText(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Record keys in the order the source sorts them: integers (numbers or digit strings, as the
 * PHP API sends its bigint ids) numerically, anything else byte-wise. `null` sorts first, so
 * a checkpoint with only a cursor (`--since`) includes every key at that cursor.
 */
export function compareKeys(a: JsonValue | undefined, b: JsonValue | undefined): number {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
  if (b === null || b === undefined) return 1;
  const sa = String(a);
  const sb = String(b);
  if (INTEGER.test(sa) && INTEGER.test(sb)) {
    const d = BigInt(sa) - BigInt(sb);
    return d === 0n ? 0 : d < 0n ? -1 : 1;
  }
  return compareText(sa, sb);
}

/** A position in the stream's order: the ranked cursor and the key. */
export interface Position {
  rank: Rank;
  key: JsonValue;
}

/** Compares two positions by (cursor, key). */
export function comparePositions(codec: CursorCodec, a: Position, b: Position): number {
  return codec.compare(a.rank, b.rank) || compareKeys(a.key, b.key);
}

/** The position of a checkpoint (null: before everything). */
export function checkpointPosition(codec: CursorCodec, checkpoint: Checkpoint | null): Position | null {
  if (!checkpoint || checkpoint.cursor === null) return null;
  return { rank: codec.rank(codec.toSource(checkpoint.cursor)), key: checkpoint.key };
}
