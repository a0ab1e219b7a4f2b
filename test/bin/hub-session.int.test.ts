/**
 * The hub's sessions have fixed formats (sql/hub-connection.ts), whatever the database sets.
 * A hub database with `DateStyle 'SQL, DMY'`, a Shanghai TimeZone and `extra_float_digits 0`
 * (as a shared server's DBA may set them) read back wrong times before: node-postgres parses
 * timestamps in ISO form only, so `customers show` printed another date for a record's sync.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubPool } from '../../sql/hub-connection.js';
import { runCli } from '../helpers/cli.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

let db: ScratchDb;

beforeAll(async () => {
  db = await scratchDatabase('hub_session');
  const name = new URL(db.url).pathname.slice(1);
  await db.pool.query(`ALTER DATABASE "${name}" SET DateStyle = 'SQL, DMY'`);
  await db.pool.query(`ALTER DATABASE "${name}" SET TimeZone = 'Asia/Shanghai'`);
  await db.pool.query(`ALTER DATABASE "${name}" SET extra_float_digits = 0`);
  await db.pool.query(`INSERT INTO unified.customer (id, name) VALUES (1, 'Ann')`);
  await db.pool.query(
    `INSERT INTO unified.source_record (source, stream, source_key, target, customer_id, payload_hash, mapping_version, synced_at)
     VALUES ('shop_pg', 'accounts', 'A1', 'customer', 1, 'h', '1', '2026-01-02T03:04:05.678Z')`,
  );
}, 60_000);

afterAll(async () => {
  await db?.close();
});

describe('hub sessions under a database with other formats', () => {
  it('a hub pool reads ISO times in UTC and floats exactly', async () => {
    const pool = hubPool(db.url, { max: 1 });
    try {
      const { rows } = await pool.query<{ style: string; zone: string; t: Date; f: string }>(
        `SELECT current_setting('DateStyle') AS style, current_setting('TimeZone') AS zone, synced_at AS t, (0.1::float8 + 0.2::float8)::text AS f FROM unified.source_record`,
      );
      expect(rows[0]).toEqual({ style: 'ISO, YMD', zone: 'UTC', t: new Date('2026-01-02T03:04:05.678Z'), f: '0.30000000000000004' });
    } finally {
      await pool.end();
    }
  });

  it('customers show prints the record sync time as stored', async () => {
    const r = await runCli(['customers', 'show', '1', '--json'], { JUNCTION_PG_URL: db.url });
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse(r.stdout) as { customers: { records: { syncedAt: string }[] }[] };
    expect(shown.customers[0]!.records).toEqual([expect.objectContaining({ syncedAt: '2026-01-02T03:04:05.678Z' })]);
  });
});
