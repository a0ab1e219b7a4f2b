/**
 * `junction migrate`: applies `sql/postgres/NNN_*.sql` and `sql/clickhouse/NNN_*.sql` in
 * order and records each applied file with its checksum, so a second run changes nothing
 * and an applied file that was edited afterwards is an error rather than a silent drift.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import pg from 'pg';
import type { StackSettings } from '../config/env.js';
import { PROJECT_ROOT } from '../config/env.js';
import { JunctionError } from '../config/errors.js';

export type Engine = 'postgres' | 'clickhouse';

export interface MigrationFile {
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  engine: Engine;
  applied: string[];
  alreadyApplied: number;
}

const NAME = /^(\d{3})_[a-z0-9_]+\.sql$/;

/** The migration files of one engine, in order; a malformed or duplicate number is an error. */
export function listMigrations(dir: string): MigrationFile[] {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort() : [];
  const seen = new Map<string, string>();
  return files.map((name) => {
    const file = path.join(dir, name);
    const match = NAME.exec(name);
    if (!match) throw new JunctionError('MIG_FAILED', `migration file names are NNN_snake_case.sql`, { where: { file } });
    const other = seen.get(match[1]!);
    if (other) throw new JunctionError('MIG_FAILED', `number ${match[1]} is used twice (also ${other})`, { where: { file } });
    seen.set(match[1]!, name);
    const sql = fs.readFileSync(file, 'utf8');
    return { name, file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

/** Line and column of a character offset in `text` (1-based). */
function position(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, offset));
  const lines = before.split('\n');
  return { line: lines.length, col: lines[lines.length - 1]!.length + 1 };
}

function checkUnchanged(m: MigrationFile, recorded: string | undefined): boolean {
  if (recorded === undefined) return false;
  if (recorded !== m.checksum) {
    throw new JunctionError('MIG_CHECKSUM', `${m.name} was changed after it was applied; add a new migration instead of editing it`, {
      where: { file: m.file },
    });
  }
  return true;
}

/** Applies the pending PostgreSQL migrations, each in its own transaction, under an advisory lock. */
export async function migratePostgres(url: string, dir: string, log: (line: string) => void = () => undefined): Promise<MigrationResult> {
  const migrations = listMigrations(dir);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Two `migrate` runs at once (two hub processes starting) must not both apply a file.
    await client.query(`SELECT pg_advisory_lock(hashtext('junction.migrate'))`);
    await client.query(`CREATE TABLE IF NOT EXISTS public.junction_migration (
      name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ name: string; checksum: string }>('SELECT name, checksum FROM public.junction_migration');
    const recorded = new Map(rows.map((r) => [r.name, r.checksum]));
    const applied: string[] = [];
    for (const m of migrations) {
      if (checkUnchanged(m, recorded.get(m.name))) continue;
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('INSERT INTO public.junction_migration (name, checksum) VALUES ($1, $2)', [m.name, m.checksum]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const e = err as pg.DatabaseError;
        const at = e.position ? position(m.sql, Number(e.position) - 1) : undefined;
        throw new JunctionError('MIG_FAILED', `${e.message}${e.code ? ` (SQLSTATE ${e.code})` : ''}`, {
          cause: err,
          where: { file: m.file, ...at },
          details: { sqlstate: e.code },
        });
      }
      applied.push(m.name);
      log(`postgres: applied ${m.name}`);
    }
    return { engine: 'postgres', applied, alreadyApplied: migrations.length - applied.length };
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtext('junction.migrate'))`).catch(() => undefined);
    await client.end();
  }
}

/**
 * Splits a ClickHouse migration into statements (its HTTP interface takes one per request):
 * a statement ends with `;` at the end of a line. Comment lines are dropped.
 */
export function splitStatements(sql: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let current: string[] = [];
  let startLine = 1;
  sql.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\s+$/, '');
    if (current.length === 0) {
      if (/^\s*(--.*)?$/.test(line)) return;
      startLine = i + 1;
    }
    if (/^\s*--/.test(line)) return;
    current.push(line);
    if (line.endsWith(';')) {
      out.push({ text: current.join('\n').replace(/;$/, ''), line: startLine });
      current = [];
    }
  });
  if (current.join('').trim()) out.push({ text: current.join('\n'), line: startLine });
  return out;
}

/**
 * Applies the pending ClickHouse migrations. ClickHouse has no transactions: statements must
 * be re-runnable (`IF NOT EXISTS`), and a file is recorded only after all of it ran.
 */
export async function migrateClickhouse(
  url: string,
  database: string,
  dir: string,
  log: (line: string) => void = () => undefined,
): Promise<MigrationResult> {
  const migrations = listMigrations(dir);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new JunctionError('MIG_FAILED', `invalid ClickHouse database name ${database}`);
  // The client's own logger prints each failed request with its stack; the failure is thrown
  // (and reported with a code) anyway.
  const quiet = { level: ClickHouseLogLevel.OFF };
  const admin = createClient({ url, log: quiet });
  try {
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  } finally {
    await admin.close();
  }
  const client = createClient({ url, database, log: quiet });
  try {
    await client.command({
      query: 'CREATE TABLE IF NOT EXISTS schema_migrations (name String, checksum String, applied_at DateTime) ENGINE = MergeTree ORDER BY name',
    });
    const rows = await (await client.query({ query: 'SELECT name, checksum FROM schema_migrations', format: 'JSONEachRow' })).json<{ name: string; checksum: string }>();
    const recorded = new Map(rows.map((r) => [r.name, r.checksum]));
    const applied: string[] = [];
    for (const m of migrations) {
      if (checkUnchanged(m, recorded.get(m.name))) continue;
      for (const stmt of splitStatements(m.sql)) {
        try {
          await client.command({ query: stmt.text });
        } catch (err) {
          throw new JunctionError('MIG_FAILED', clickhouseMessage(err), { cause: err, where: { file: m.file, line: stmt.line, col: 1 } });
        }
      }
      await client.insert({
        table: 'schema_migrations',
        values: [{ name: m.name, checksum: m.checksum, applied_at: Math.floor(Date.now() / 1000) }],
        format: 'JSONEachRow',
      });
      applied.push(m.name);
      log(`clickhouse: applied ${m.name}`);
    }
    return { engine: 'clickhouse', applied, alreadyApplied: migrations.length - applied.length };
  } finally {
    await client.close();
  }
}

/** ClickHouse's error text without its C++ wrapping and its long list of expected tokens. */
function clickhouseMessage(err: unknown): string {
  return (err as Error).message
    .split('\n')[0]!
    .replace(/e\.displayText\(\) = DB::Exception: /, '')
    .replace(/, e\.what\(\) = .*$/, '')
    .replace(/(Expected one of: .{0,80}).*$/, '$1…');
}

/** Runs both engines' committed migrations against the hub's servers. */
export async function migrateAll(settings: StackSettings, log: (line: string) => void = () => undefined): Promise<MigrationResult[]> {
  const sqlDir = path.join(PROJECT_ROOT, 'sql');
  return [
    await migratePostgres(settings.services.postgres.url, path.join(sqlDir, 'postgres'), log),
    await migrateClickhouse(settings.services.clickhouse.url, settings.clickhouseDatabase, path.join(sqlDir, 'clickhouse'), log),
  ];
}
