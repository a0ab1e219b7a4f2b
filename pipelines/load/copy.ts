/**
 * `COPY … FROM STDIN` (text format) into a session-local staging table, then one
 * `INSERT … SELECT … [ON CONFLICT]`: PostgreSQL parses COPY text faster than any statement
 * parameter (arrays, JSON), and the staging table has the target's column types.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { JsonValue } from '../../connectors/types.js';

export type CopyValue = string | readonly string[] | null;

const SPECIAL = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One field in COPY's text format: `\N` for null; backslash, newline, CR and tab escaped. */
function textField(v: CopyValue): string {
  if (v === null) return '\\N';
  // Arrays in PostgreSQL's literal form: elements double-quoted, `\` and `"` backslash-escaped.
  const text = typeof v === 'string' ? v : `{${v.map((e) => `"${e.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
  // Most values (and JSON without escapes) need nothing: test before replacing.
  return SPECIAL.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c]!) : text;
}

function* chunks(rows: readonly CopyValue[][], size = 500): Generator<string> {
  for (let i = 0; i < rows.length; i += size) {
    let out = '';
    for (const row of rows.slice(i, i + size)) out += `${row.map(textField).join('\t')}\n`;
    yield out;
  }
}

/**
 * Fills `stage` (a temp table created here on first use, `LIKE` the columns of `table`) with
 * `rows`. The caller consumes and empties it in the same transaction.
 */
export async function copyToStage(db: pg.ClientBase, stage: string, table: string, columns: readonly string[], rows: readonly CopyValue[][]): Promise<void> {
  const cols = columns.map((c) => `"${c}"`).join(', ');
  await db.query(`CREATE TEMP TABLE IF NOT EXISTS ${stage} AS SELECT ${cols} FROM ${table} WITH NO DATA`);
  await pipeline(Readable.from(chunks(rows)), db.query(copyFrom(`COPY ${stage} (${cols}) FROM STDIN`)));
}

/** A mapped value as COPY text: JSON for structures (and for every value of a json column). */
export function copyValue(v: JsonValue | undefined, json = false): CopyValue {
  if (v === null || v === undefined) return null;
  if (json || typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export interface CopyUpsert {
  /** Target table, schema-qualified. */
  table: string;
  /** Session-local staging table name. */
  stage: string;
  columns: readonly string[];
  rows: readonly CopyValue[][];
  /** Conflict target; absent: plain insert. */
  conflict?: readonly string[];
  /** Columns updated on conflict. */
  update?: readonly string[];
}

/**
 * COPY into the stage, one INSERT … SELECT (upsert) into the table, stage emptied. A plain
 * insert (no `conflict`) COPYs straight into the table: the same rows and defaults, without
 * writing every row (and its large JSON) twice.
 */
export async function copyUpsert(db: pg.ClientBase, spec: CopyUpsert): Promise<void> {
  if (spec.rows.length === 0) return;
  const cols = spec.columns.map((c) => `"${c}"`).join(', ');
  if (!spec.conflict) {
    await pipeline(Readable.from(chunks(spec.rows)), db.query(copyFrom(`COPY ${spec.table} (${cols}) FROM STDIN`)));
    return;
  }
  await copyToStage(db, spec.stage, spec.table, spec.columns, spec.rows);
  const onConflict = ` ON CONFLICT (${spec.conflict.map((c) => `"${c}"`).join(', ')}) DO UPDATE SET ${(spec.update ?? []).map((c) => `"${c}" = excluded."${c}"`).join(', ')}`;
  await db.query(`INSERT INTO ${spec.table} (${cols}) SELECT ${cols} FROM ${spec.stage}${onConflict}`);
  await db.query(`TRUNCATE ${spec.stage}`);
}
