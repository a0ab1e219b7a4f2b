/**
 * A configured SQL stream, checked once when the connector is built: identifiers validated,
 * the declared query trimmed, the keyset columns decided.
 */
import { JunctionError } from '../../config/errors.js';
import { DEFAULT_READ_BATCH } from '../fields.js';
import { checkIdentifier, parseTableName, type QualifiedName } from './identifiers.js';

/** A stream as the shared `sqlStream()` schema resolves it. */
export interface SqlStreamConfig {
  readonly description?: string | undefined;
  readonly cursor?: string | readonly [string, string] | undefined;
  readonly key: string;
  readonly table?: string | undefined;
  readonly query?: string | undefined;
  readonly batch_size?: number;
  readonly statement_timeout_ms: number;
  readonly lookback_s?: number | undefined;
}

/** Where rows come from: a table, or a declared query read as a subquery. */
export type RowSource = { readonly table: QualifiedName } | { readonly query: string };

export interface StreamPlan {
  readonly name: string;
  readonly from: RowSource;
  /** The cursor column (`updated_at`); undefined: the stream is paged by its key alone. */
  readonly cursor: string | undefined;
  /**
   * The column that breaks cursor ties and whose value is the checkpoint's `key`: the
   * second element of `cursor: [c, k]`, else the stream's `key`.
   */
  readonly tiebreak: string;
  /** The record key (identifies a record; usually the same column as `tiebreak`). */
  readonly key: string;
  /** The cursor as configured, for `discover()`. */
  readonly cursorSpec: [string, string] | [string] | undefined;
  readonly batchSize: number;
  readonly timeoutMs: number;
  /** How far before a time cursor a read resumes (ms); 0: at the checkpoint. */
  readonly lookbackMs: number;
}

/**
 * A declared query as a subquery: a trailing `;` would end the statement early and is
 * dropped. Anything else is the database's to parse: wrapped in `SELECT * FROM (…)` and sent
 * as one bound statement in a read-only transaction, a second statement cannot run.
 */
function subquery(query: string, source: string, stream: string): string {
  const text = query.trim().replace(/;\s*$/, '').trimEnd();
  if (text === '') throw new JunctionError('CFG_INVALID_VALUE', `stream ${stream}: query is empty`, { where: { source } });
  return text;
}

/** Checks a stream's config and decides how it is paged. @throws CFG_INVALID_VALUE */
export function planStream(source: string, name: string, config: SqlStreamConfig): StreamPlan {
  const what = (field: string) => `${field} of stream ${name}`;
  let from: RowSource;
  if (config.table !== undefined) from = { table: parseTableName(config.table, source) };
  else if (config.query !== undefined) from = { query: subquery(config.query, source, name) };
  else throw new JunctionError('CFG_MISSING_KEY', `stream ${name} has neither table nor query`, { where: { source } });

  const key = checkIdentifier(config.key, what('key'), source);
  let cursor: string | undefined;
  let tiebreak = key;
  let cursorSpec: StreamPlan['cursorSpec'];
  if (typeof config.cursor === 'string') {
    cursor = checkIdentifier(config.cursor, what('cursor'), source);
    cursorSpec = [cursor];
  } else if (config.cursor) {
    cursor = checkIdentifier(config.cursor[0], what('cursor'), source);
    tiebreak = checkIdentifier(config.cursor[1], what('cursor key'), source);
    cursorSpec = [cursor, tiebreak];
  }
  if (cursor === tiebreak) {
    // (c, c) would order by one column only: ties would be lost at page boundaries.
    throw new JunctionError('CFG_INVALID_VALUE', `stream ${name}: the cursor and its tie-breaking key must be different columns`, { where: { source } });
  }
  return {
    name,
    from,
    cursor,
    tiebreak,
    key,
    cursorSpec,
    batchSize: config.batch_size ?? DEFAULT_READ_BATCH,
    timeoutMs: config.statement_timeout_ms,
    lookbackMs: (config.lookback_s ?? 0) * 1000,
  };
}
