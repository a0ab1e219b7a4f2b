/**
 * What a ClickHouse `DateTime` holds: unsigned 32-bit seconds, 1970-01-01 00:00:00 to
 * 2106-02-07 06:28:15 UTC. 18.16 takes any other value and wraps it modulo 2^32 without a
 * word (a 1900-01-01 placeholder reads 2036-02-07), and has no DateTime64. So times outside
 * are sent as NULL where the column is Nullable and clamped to the nearest end where it is
 * not (sql/clickhouse/*.sql), and the sender logs how many there were.
 */

/** The last second a `DateTime` holds (2106-02-07 06:28:15 UTC). */
export const DATETIME_MAX = 4_294_967_295;

/** Whether `seconds` (since the epoch) fits a `DateTime`. */
export function fitsDateTime(seconds: number): boolean {
  return seconds >= 0 && seconds <= DATETIME_MAX;
}

/** `seconds` clamped to what a `DateTime` holds (NaN gives 0). */
export function clampDateTime(seconds: number): number {
  if (fitsDateTime(seconds)) return seconds;
  return seconds > DATETIME_MAX ? DATETIME_MAX : 0;
}

/**
 * Converts seconds (numbers, or int8 text as PostgreSQL gives them) for `DateTime` columns,
 * counting per table the values that did not fit: one per batch of rows, so the batch's
 * sender can log the counts once.
 */
export class DateTimeFitter {
  /** Values outside the `DateTime` range, per table. */
  readonly outside: Record<string, number> = {};

  /** For a `Nullable(DateTime)` column: null when absent or outside the range. */
  nullable(table: string, v: unknown): number | null {
    if (v === null || v === undefined) return null;
    const n = Number(v);
    if (fitsDateTime(n)) return n;
    this.count(table);
    return null;
  }

  /** For a `DateTime` column: clamped to 1970-01-01 or 2106-02-07 when outside (NaN gives 0). */
  clamped(table: string, v: number): number {
    if (fitsDateTime(v)) return v;
    this.count(table);
    return clampDateTime(v);
  }

  /** How many values did not fit, over every table. */
  get total(): number {
    return Object.values(this.outside).reduce((a, b) => a + b, 0);
  }

  private count(table: string): void {
    this.outside[table] = (this.outside[table] ?? 0) + 1;
  }
}
