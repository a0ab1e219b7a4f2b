/**
 * ClickHouse DDL must run on the Debian 18.16 server the stack starts and on current
 * ClickHouse, and only the first runs here: what the second refuses is checked on the text.
 * Each rule is one a migration broke or could break (README, Analytics: 18.16 and current).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = join(import.meta.dirname, '../../sql/clickhouse');

/** Each migration's SQL without its comments. */
const migrations = readdirSync(DIR)
  .filter((f) => /^\d{3}_.*\.sql$/.test(f))
  .map((file) => ({ file, sql: readFileSync(join(DIR, file), 'utf8').replace(/--[^\n]*/g, '') }));

/** What a portable migration must not contain, and why. */
const RULES: { what: string; pattern: RegExp }[] = [
  // Current ClickHouse refuses `(SELECT …) ANY LEFT JOIN (SELECT …) USING …` (code 206, no alias for subquery).
  { what: 'a joined subquery without a name', pattern: /\)\s*(?:(?:ANY|ALL|ASOF|SEMI|ANTI)\s+)?(?:(?:LEFT|RIGHT|INNER|FULL|CROSS)\s+)?(?:OUTER\s+)?JOIN\b/i },
  { what: 'a subquery joined without a name', pattern: /JOIN\s*\((?:[^()]|\([^()]*\))*\)\s*(?:USING|ON)\b/i },
  // Types 18.16 does not have, or has only behind an experimental setting.
  { what: 'DateTime64 or Date32 (not in 18.16)', pattern: /\b(DateTime64|Date32)\s*\(|\bDate32\b/ },
  { what: 'LowCardinality (experimental in 18.16)', pattern: /\bLowCardinality\s*\(/i },
  { what: 'is_deleted of ReplacingMergeTree (not in 18.16)', pattern: /\bis_deleted\b/i },
  { what: 'ADD COLUMN IF NOT EXISTS / CREATE OR REPLACE (not in 18.16)', pattern: /ADD\s+COLUMN\s+IF\s+NOT\s+EXISTS|CREATE\s+OR\s+REPLACE/i },
];

describe('ClickHouse migrations run on 18.16 and on current ClickHouse', () => {
  it('finds the migrations', () => {
    expect(migrations.map((m) => m.file)).toContain('002_analytics.sql');
  });

  it.each(RULES)('no migration has $what', ({ pattern }) => {
    expect(migrations.filter((m) => pattern.test(m.sql)).map((m) => `${m.file}: ${m.sql.match(pattern)?.[0]}`)).toEqual([]);
  });

  it('the rules catch the joins current ClickHouse refused', () => {
    const unnamed = '(SELECT a FROM t GROUP BY a)\nANY LEFT JOIN\n(SELECT a, b FROM u GROUP BY a) USING (a)';
    expect(RULES[0]!.pattern.test(unnamed)).toBe(true);
    expect(RULES[1]!.pattern.test(unnamed)).toBe(true);
    const named = '(SELECT a FROM t GROUP BY a) AS m\nANY LEFT JOIN\n(SELECT a, b FROM u GROUP BY a) AS c USING (a)';
    expect(RULES[0]!.pattern.test(named) || RULES[1]!.pattern.test(named)).toBe(false);
  });
});
