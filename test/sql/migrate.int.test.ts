/**
 * Migrations against the real PostgreSQL and ClickHouse (the Debian 18.16 server in the
 * stack): the committed files apply and a second run is a no-op; failures name the file
 * and line; an edited applied file is refused.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackSettings, withDatabase, PROJECT_ROOT } from '../../config/env.js';
import { JunctionError } from '../../config/errors.js';
import { migrateClickhouse, migratePostgres, splitStatements } from '../../sql/migrate.js';
import { runCli } from '../helpers/cli.js';

const settings = stackSettings();
const SCRATCH_DB = 'junction_test_migrate';
const scratchPg = withDatabase(settings.services.postgres.url, SCRATCH_DB);
let dir: string;

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(settings.services.postgres.url, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-mig-'));
  await adminQuery(`DROP DATABASE IF EXISTS ${SCRATCH_DB}`);
  await adminQuery(`CREATE DATABASE ${SCRATCH_DB}`);
  const ch = createClient({ url: settings.services.clickhouse.url });
  await ch.command({ query: `DROP DATABASE IF EXISTS ${SCRATCH_DB}` });
  await ch.close();
});

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await adminQuery(`DROP DATABASE IF EXISTS ${SCRATCH_DB}`);
});

describe('junction migrate (committed migrations)', () => {
  it('a second run applies nothing', async () => {
    const first = await runCli(['migrate', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(['migrate', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const results = (JSON.parse(second.stdout) as { engines: { engine: string; applied: string[]; alreadyApplied: number }[] }).engines;
    const pgFiles = fs.readdirSync(path.join(PROJECT_ROOT, 'sql/postgres')).filter((f) => f.endsWith('.sql'));
    const chFiles = fs.readdirSync(path.join(PROJECT_ROOT, 'sql/clickhouse')).filter((f) => f.endsWith('.sql'));
    expect(results).toEqual([
      { engine: 'postgres', applied: [], alreadyApplied: pgFiles.length },
      { engine: 'clickhouse', applied: [], alreadyApplied: chFiles.length },
    ]);
  });
});

describe('migration runner on scratch databases', () => {
  it('applies in order, records, and refuses an edited applied file (MIG_CHECKSUM)', async () => {
    const pgDir = path.join(dir, 'pg');
    fs.mkdirSync(pgDir);
    fs.writeFileSync(path.join(pgDir, '002_b.sql'), 'INSERT INTO t VALUES (2);\n');
    fs.writeFileSync(path.join(pgDir, '001_a.sql'), 'CREATE TABLE t (v int);\nINSERT INTO t VALUES (1);\n');
    const run = await migratePostgres(scratchPg, pgDir);
    expect(run.applied).toEqual(['001_a.sql', '002_b.sql']);
    expect((await migratePostgres(scratchPg, pgDir)).applied).toEqual([]);

    fs.appendFileSync(path.join(pgDir, '001_a.sql'), 'INSERT INTO t VALUES (3);\n');
    const err = await migratePostgres(scratchPg, pgDir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JunctionError);
    expect((err as JunctionError).code).toBe('MIG_CHECKSUM');
    expect((err as JunctionError).format()).toContain('001_a.sql');
  });

  it('a failing PostgreSQL statement names file:line:col and rolls the whole file back (MIG_FAILED)', async () => {
    const pgDir = path.join(dir, 'pg-bad');
    fs.mkdirSync(pgDir);
    fs.writeFileSync(path.join(pgDir, '001_ok.sql'), 'CREATE TABLE ok_t (v int);\n');
    fs.writeFileSync(path.join(pgDir, '002_bad.sql'), 'CREATE TABLE half (v int);\n\nSELECT * FROM no_such_table;\n');
    const err = (await migratePostgres(scratchPg, pgDir).catch((e: unknown) => e)) as JunctionError;
    expect(err.code).toBe('MIG_FAILED');
    expect(err.format()).toMatch(/002_bad\.sql:3:15: .*no_such_table.*SQLSTATE 42P01/);
    const client = new pg.Client({ connectionString: scratchPg });
    await client.connect();
    const half = await client.query(`SELECT to_regclass('public.half') AS t`);
    const applied = await client.query('SELECT name FROM public.junction_migration ORDER BY name');
    await client.end();
    expect(half.rows[0].t).toBeNull();
    expect(applied.rows.map((r) => r.name)).toContain('001_ok.sql');
    expect(applied.rows.map((r) => r.name)).not.toContain('002_bad.sql');
  });

  it('ClickHouse: applies statement by statement, a second run is a no-op, a bad statement names its line', async () => {
    const chDir = path.join(dir, 'ch');
    fs.mkdirSync(chDir);
    fs.writeFileSync(
      path.join(chDir, '001_t.sql'),
      '-- a table and a view\nCREATE TABLE IF NOT EXISTS t (id UInt64, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY id;\n\nCREATE VIEW IF NOT EXISTS t_view AS\nSELECT id, max(v) AS v FROM t GROUP BY id;\n',
    );
    const url = settings.services.clickhouse.url;
    expect((await migrateClickhouse(url, SCRATCH_DB, chDir)).applied).toEqual(['001_t.sql']);
    expect((await migrateClickhouse(url, SCRATCH_DB, chDir)).applied).toEqual([]);
    fs.writeFileSync(path.join(chDir, '002_bad.sql'), 'CREATE TABLE IF NOT EXISTS u (id UInt64) ENGINE = MergeTree ORDER BY id;\n\nSELEC nonsense;\n');
    const err = (await migrateClickhouse(url, SCRATCH_DB, chDir).catch((e: unknown) => e)) as JunctionError;
    expect(err.code).toBe('MIG_FAILED');
    expect(err.format()).toMatch(/002_bad\.sql:3:1: Code: 62, Syntax error: failed at position 1/);
    expect(err.format().length).toBeLessThan(400);
  });

  it('splits ClickHouse files on `;` at line ends, skipping comments', () => {
    expect(splitStatements('-- c\nCREATE TABLE a (x UInt8)\nENGINE = Memory;\n\nSELECT 1;\n')).toEqual([
      { text: 'CREATE TABLE a (x UInt8)\nENGINE = Memory', line: 2 },
      { text: 'SELECT 1', line: 5 },
    ]);
  });
});
