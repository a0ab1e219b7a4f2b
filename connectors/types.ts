/**
 * The runtime contract every connector kind implements (its config spec is in `spec.ts`).
 * Records leave a connector as plain JSON: dates as ISO-8601 with offset, big or exact
 * numbers as strings, binary as base64, ObjectId as hex.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One source record, as plain JSON. */
export type SourceRecord = { [field: string]: JsonValue };

/**
 * Where a stream's reading stopped: the compound cursor `(cursor value, key)` of the last
 * record handed out. Reading resumes strictly after it, so rows sharing one cursor value
 * across a page boundary are neither lost nor read twice. Both parts are JSON scalars in the
 * connector's output form (ISO-8601 strings for times), so checkpoints store as JSON.
 */
export interface Checkpoint {
  cursor: string | number | null;
  /**
   * `null` means "from this cursor value, inclusive" (every key): what `junction read --since`
   * passes. A non-null key resumes strictly after `(cursor, key)`.
   */
  key: string | number | null;
}

export interface Batch {
  records: SourceRecord[];
  /** The checkpoint after the last record of this batch. */
  checkpoint: Checkpoint | null;
}

export interface ReadOptions {
  /** Records per batch. @defaultValue the stream's configured batch or page size */
  batchSize?: number;
  /** Stops reading (the iterator ends with an abort error) when aborted. */
  signal?: AbortSignal;
  /** Stop after this many records (previews, `junction read --limit`). */
  limit?: number;
}

export interface CountOptions {
  /** Cancels the count (the sync it was for ended first). */
  signal?: AbortSignal;
}

export interface CheckResult {
  ok: boolean;
  /** Round trip of the connectivity probe. */
  latencyMs: number;
  /** What was checked, or why it failed (never containing secrets). */
  detail: string;
  code?: string;
}

export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'datetime' | 'object' | 'array' | 'binary' | 'null' | 'mixed';

export interface FieldInfo {
  name: string;
  type: FieldType;
  nullable: boolean;
}

export interface StreamInfo {
  name: string;
  key: string;
  cursor: [string, string] | [string] | undefined;
  fields: FieldInfo[];
}

export interface LookupOptions {
  signal?: AbortSignal;
  /** Overrides the lookup's configured `timeout_ms`. */
  timeoutMs?: number;
}

export type LookupResult = SourceRecord | SourceRecord[] | null;

export interface Connector {
  /** The source's name in config (`orders_soap`). */
  readonly source: string;
  readonly type: string;
  /** Connectivity and permissions, with latency. Never throws: failures are in the result. */
  check(): Promise<CheckResult>;
  /** Declared streams and their fields with inferred types (from a sample). */
  discover(): Promise<StreamInfo[]>;
  /** Batches of records after `checkpoint` (null: from the beginning). Read-only, cancellable. */
  read(stream: string, checkpoint: Checkpoint | null, options?: ReadOptions): AsyncIterable<Batch>;
  /**
   * Whether `cursor` (a checkpoint's, as `read` hands it out) lies after `bound` (a backfill's
   * `--to`, typed by a person), read the way this connector reads a `--from`. Absent where the
   * generic comparison holds (`pastEnd` in connectors/cursor-value.ts: numbers as numbers, times
   * as instants, a time without an offset as UTC); a source whose cursors are wall-clock
   * times in its own zone must say, or a backfill stops hours early or late.
   */
  cursorAfter?(stream: string, cursor: string | number, bound: string): boolean;
  /**
   * How many records `read(stream, checkpoint)` would hand out now: the total of a sync's
   * progress bar (percentage, ETA). Absent where the source cannot tell without reading
   * everything (REST and SOAP APIs page without a total).
   */
  count?(stream: string, checkpoint: Checkpoint | null, options?: CountOptions): Promise<number>;
  /** A live lookup declared under the source's `lookups:`, with its timeout. */
  lookup(name: string, params: Record<string, unknown>, options?: LookupOptions): Promise<LookupResult>;
  close(): Promise<void>;
}
