/**
 * Finds the `:name` parameters of a declared lookup query and rewrites them into the
 * driver's placeholders. Text inside string literals, quoted identifiers, comments and
 * PostgreSQL dollar quotes is left alone, as are `::` casts, so `'12:30'`, `"A:B"`,
 * `-- see :x` and `created_at::date` are not parameters.
 */

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const WORD_CHAR = /[A-Za-z0-9_$]/;
const DOLLAR_TAG = /\$([A-Za-z_][A-Za-z0-9_]*)?\$/y;

export interface RewrittenQuery {
  sql: string;
  /** Parameter names in order of first appearance, each once. */
  names: string[];
}

/** The index just after a quoted run starting at `start` (`quote` doubled inside is an escape). */
function skipQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const ch = sql[i];
    if (backslashEscapes && ch === '\\') {
      i += 2;
      continue;
    }
    if (ch === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return sql.length;
}

/** The index after the literal or comment starting at `i`, or -1 when none starts there. */
function skipInert(sql: string, i: number): number {
  const ch = sql[i];
  const next = sql[i + 1];
  if (ch === "'") {
    // E'…' (PostgreSQL escape strings) treats backslash as an escape.
    const prev = sql[i - 1];
    const escaped = (prev === 'E' || prev === 'e') && !WORD_CHAR.test(sql[i - 2] ?? '');
    return skipQuoted(sql, i, "'", escaped);
  }
  if (ch === '"') return skipQuoted(sql, i, '"', false);
  if (ch === '-' && next === '-') {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end + 1;
  }
  if (ch === '/' && next === '*') {
    const end = sql.indexOf('*/', i + 2);
    return end < 0 ? sql.length : end + 2;
  }
  if (ch === '$' && !WORD_CHAR.test(sql[i - 1] ?? '')) {
    DOLLAR_TAG.lastIndex = i;
    const tag = DOLLAR_TAG.exec(sql);
    if (tag) {
      const end = sql.indexOf(tag[0], i + tag[0].length);
      return end < 0 ? sql.length : end + tag[0].length;
    }
  }
  return -1;
}

/**
 * Rewrites every `:name` with `placeholder(name, indexOfFirstAppearance)`.
 * @param placeholder e.g. `(_, i) => '$' + (i + 1)` for PostgreSQL, `(n) => ':' + n` for Oracle
 */
export function rewriteNamedParams(sql: string, placeholder: (name: string, index: number) => string): RewrittenQuery {
  const names: string[] = [];
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const inertEnd = skipInert(sql, i);
    if (inertEnd >= 0) {
      out += sql.slice(i, inertEnd);
      i = inertEnd;
      continue;
    }
    const ch = sql[i]!;
    if (ch === ':' && sql[i + 1] === ':') {
      out += '::';
      i += 2;
      continue;
    }
    if (ch === ':') {
      NAME.lastIndex = i + 1;
      const match = NAME.exec(sql);
      if (match) {
        const name = match[0];
        let index = names.indexOf(name);
        if (index < 0) index = names.push(name) - 1;
        out += placeholder(name, index);
        i += 1 + name.length;
        continue;
      }
    }
    out += ch;
    i += 1;
  }
  return { sql: out, names };
}
