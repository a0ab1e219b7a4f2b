/**
 * What differs between the databases the shared SQL reader speaks to. The differences are
 * data, not code paths, so a test can mix them (the Oracle 12c predicate and FETCH form run
 * unchanged on PostgreSQL, which accepts both).
 */

export interface SqlDialect {
  /** For messages and test names: `postgres`, `oracle 12c`, `oracle 11g`. */
  readonly name: string;
  /** `positional`: `$1, $2` and an array of values; `named`: `:after_key` and an object. */
  readonly binds: 'positional' | 'named';
  /**
   * How "strictly after (cursor, key)" is written. `row-value`: `(c, k) > ($1, $2)`, which
   * PostgreSQL turns into one index range scan; `expanded`: `(c > :c OR (c = :c AND k > :k))`,
   * for databases without row-value comparison.
   */
  readonly keyset: 'row-value' | 'expanded';
  /**
   * How a page is limited. `limit`: `LIMIT $n`; `fetch-first`: `OFFSET 0 ROWS FETCH NEXT :n
   * ROWS ONLY` (SQL:2008, Oracle 12c+); `rownum`: `SELECT * FROM (… ORDER BY …) WHERE
   * ROWNUM <= :n` (Oracle 11g, where ROWNUM must be applied outside the ordered query).
   */
  readonly limit: 'limit' | 'fetch-first' | 'rownum';
  /** Written between a table or subquery and its alias (Oracle does not accept `AS` there). */
  readonly aliasKeyword: ' AS ' | ' ';
  /** The cheapest statement that proves a working session. */
  readonly ping: string;
}

export const postgresDialect: SqlDialect = Object.freeze({
  name: 'postgres',
  binds: 'positional',
  keyset: 'row-value',
  limit: 'limit',
  aliasKeyword: ' AS ',
  ping: 'SELECT 1',
});

export const oracle12cDialect: SqlDialect = Object.freeze({
  name: 'oracle 12c',
  binds: 'named',
  keyset: 'expanded',
  limit: 'fetch-first',
  aliasKeyword: ' ',
  ping: 'SELECT 1 FROM DUAL',
});

export const oracle11gDialect: SqlDialect = Object.freeze({
  ...oracle12cDialect,
  name: 'oracle 11g',
  limit: 'rownum',
});
