/**
 * The statements the shared reader sends: a keyset page, a zero-row probe and a lookup.
 * Values are always bound; only validated, quoted identifiers and the dialect's fixed
 * keywords are written into the text.
 */
import { JunctionError } from '../../config/errors.js';
import type { SqlDialect } from './dialects.js';
import { quoteIdentifier, quoteTable } from './identifiers.js';
import { rewriteNamedParams } from './named-params.js';
import type { RowSource, StreamPlan } from './stream-plan.js';

/** SQL text and its binds in the driver's form (an array for `$n`, an object for `:name`). */
export interface SqlStatement {
  sql: string;
  binds: unknown[] | Record<string, unknown>;
}

/**
 * Where a page starts, as bind values. `key: null` means "from `cursor` inclusive" (every
 * key at that cursor value); otherwise strictly after `(cursor, key)`.
 */
export interface PageStart {
  cursor: unknown;
  key: unknown;
}

/** The alias every generated statement gives the table or subquery. */
const ALIAS = 't';

/** Collects binds under stable names; a name used twice is bound once. */
class BindList {
  private readonly names: string[] = [];
  private readonly values: unknown[] = [];

  constructor(private readonly dialect: SqlDialect) {}

  ref(name: string, value: unknown): string {
    let index = this.names.indexOf(name);
    if (index < 0) {
      index = this.names.push(name) - 1;
      this.values.push(value);
    }
    return this.dialect.binds === 'positional' ? `$${index + 1}` : `:${name}`;
  }

  out(): SqlStatement['binds'] {
    if (this.dialect.binds === 'positional') return [...this.values];
    return Object.fromEntries(this.names.map((n, i) => [n, this.values[i]]));
  }
}

function fromClause(dialect: SqlDialect, from: RowSource): string {
  // A newline before ')' keeps a trailing `-- comment` in a declared query from eating it.
  const body = 'table' in from ? quoteTable(from.table) : `(${from.query}${from.query.includes('--') ? '\n' : ''})`;
  return `${body}${dialect.aliasKeyword}${ALIAS}`;
}

const col = (name: string) => `${ALIAS}.${quoteIdentifier(name)}`;

function keysetPredicate(dialect: SqlDialect, plan: StreamPlan, start: PageStart, binds: BindList): string {
  const k = col(plan.tiebreak);
  if (plan.cursor === undefined) return `${k} > ${binds.ref('after_key', start.key)}`;
  const c = col(plan.cursor);
  const cursor = binds.ref('after_cursor', start.cursor);
  if (start.key === null || start.key === undefined) return `${c} >= ${cursor}`;
  const key = binds.ref('after_key', start.key);
  return dialect.keyset === 'row-value' ? `(${c}, ${k}) > (${cursor}, ${key})` : `(${c} > ${cursor} OR (${c} = ${cursor} AND ${k} > ${key}))`;
}

/** One page of `plan` after `start` (null: from the beginning), at most `size` rows. */
export function pageQuery(dialect: SqlDialect, plan: StreamPlan, start: PageStart | null, size: number): SqlStatement {
  if (!Number.isInteger(size) || size < 1) throw new JunctionError('CFG_INVALID_VALUE', `page size must be a positive integer, got ${size}`);
  const binds = new BindList(dialect);
  const where = start ? ` WHERE ${keysetPredicate(dialect, plan, start, binds)}` : '';
  const order = ` ORDER BY ${plan.cursor === undefined ? '' : `${col(plan.cursor)}, `}${col(plan.tiebreak)}`;
  const select = `SELECT * FROM ${fromClause(dialect, plan.from)}${where}${order}`;
  return { sql: limited(dialect, select, binds.ref('page_size', size)), binds: binds.out() };
}

/** `select` cut to `size` rows (a bind reference) in the dialect's form. */
function limited(dialect: SqlDialect, select: string, size: string): string {
  switch (dialect.limit) {
    case 'limit':
      return `${select} LIMIT ${size}`;
    case 'fetch-first':
      return `${select} OFFSET 0 ROWS FETCH NEXT ${size} ROWS ONLY`;
    case 'rownum':
      return `SELECT * FROM (${select}) WHERE ROWNUM <= ${size}`;
  }
}

/**
 * One row of the stream whose cursor or tie-breaking key is NULL, if there is one: its
 * keyset columns and its record key. Such a row fails every keyset predicate, so no page
 * after the first reaches it.
 */
export function nullKeysetQuery(dialect: SqlDialect, plan: StreamPlan): SqlStatement {
  const binds = new BindList(dialect);
  const keyset = plan.cursor === undefined ? [plan.tiebreak] : [plan.cursor, plan.tiebreak];
  const columns = [...new Set([...keyset, plan.key])].map(col).join(', ');
  const where = keyset.map((c) => `${col(c)} IS NULL`).join(' OR ');
  return { sql: limited(dialect, `SELECT ${columns} FROM ${fromClause(dialect, plan.from)} WHERE ${where}`, binds.ref('one_row', 1)), binds: binds.out() };
}

/** The number of rows a read after `start` (null: from the beginning) would return now. */
export function countQuery(dialect: SqlDialect, plan: StreamPlan, start: PageStart | null): SqlStatement {
  const binds = new BindList(dialect);
  const where = start ? ` WHERE ${keysetPredicate(dialect, plan, start, binds)}` : '';
  return { sql: `SELECT COUNT(*) AS n FROM ${fromClause(dialect, plan.from)}${where}`, binds: binds.out() };
}

/** Zero rows of the stream: proves SELECT permission and yields the column metadata. */
export function probeQuery(dialect: SqlDialect, from: RowSource): SqlStatement {
  return { sql: `SELECT * FROM ${fromClause(dialect, from)} WHERE 1 = 0`, binds: dialect.binds === 'positional' ? [] : {} };
}

/** A declared lookup with its `:name` parameters, ready to bind. */
export interface PreparedLookup {
  sql: string;
  /** Parameter names in bind order (positional) or as bind keys (named). */
  names: string[];
}

/** Rewrites a lookup's `:name` parameters into the dialect's placeholders. */
export function prepareLookup(dialect: SqlDialect, query: string): PreparedLookup {
  const text = query.trim().replace(/;\s*$/, '');
  const { sql, names } = rewriteNamedParams(text, dialect.binds === 'positional' ? (_n, i) => `$${i + 1}` : (n) => `:${n}`);
  return { sql, names };
}

/** The binds of a prepared lookup from already-checked parameter values. */
export function lookupBinds(dialect: SqlDialect, lookup: PreparedLookup, params: Record<string, unknown>): SqlStatement['binds'] {
  if (dialect.binds === 'positional') return lookup.names.map((n) => params[n]);
  return Object.fromEntries(lookup.names.map((n) => [n, params[n]]));
}
