/**
 * What the shared SQL reader needs from a database driver. A driver runs one read-only
 * statement at a time, converts rows to plain JSON and turns its own errors into classified
 * `CONN_*` errors; everything about paging, checkpoints and lookups lives in the core.
 */
import type { FieldType, SourceRecord } from '../types.js';
import type { SqlStatement } from './query-builder.js';

/** A result column as the driver describes it. */
export interface ColumnInfo {
  name: string;
  /** The JSON-level kind of its values (see `FieldType`). */
  type: FieldType;
  nullable: boolean;
  /** The database's own type name (`timestamptz`, `TIMESTAMP WITH TIME ZONE`), for binding. */
  dbType: string;
}

export interface SqlResult {
  /** Rows already converted to plain JSON (ISO times, exact numbers as strings, base64). */
  rows: SourceRecord[];
  columns: ColumnInfo[];
}

export interface StatementOptions {
  /** Server-side limit for the statement (statement_timeout, callTimeout): CONN_TIMEOUT. */
  timeoutMs: number;
  /** Cancels the running statement: CONN_ABORTED. */
  signal?: AbortSignal | undefined;
  /** Rows the caller expects at most (lets a driver size its fetches). */
  expectedRows?: number;
  /** Rows returned at most: the database stops there, the rest is never fetched. */
  maxRows?: number;
}

export interface SqlDriver {
  /**
   * Runs `statement` in its own read-only transaction. Errors are `JunctionError`s with a
   * `CONN_*` code, `retryable` set for transient failures, and the database's own code in
   * `details`.
   */
  query(statement: SqlStatement, options: StatementOptions): Promise<SqlResult>;
  /**
   * Like {@link query} for a zero-row probe, with nullability filled in where the driver
   * can learn it (PostgreSQL asks the catalog).
   */
  describe(statement: SqlStatement, options: StatementOptions): Promise<ColumnInfo[]>;
  /**
   * Turns a checkpoint's JSON value back into a bind value for `column`, when the driver
   * cannot bind the JSON form as is (Oracle binds times as typed dates; PostgreSQL would drop
   * the offset of a value compared with a `timestamp` column). Absent: the JSON value is
   * bound unchanged.
   */
  bindValue?(value: string | number, column: ColumnInfo): unknown;
  /**
   * The time zone in which {@link bindValue} (or the database) reads a time without an
   * offset compared with `column` (a `--from`): a backfill's `--to` is read in the same one.
   * Absent, or null for a column: UTC, as `pastEnd` reads it.
   */
  boundZone?(column: ColumnInfo): string | null;
  close(): Promise<void>;
}
