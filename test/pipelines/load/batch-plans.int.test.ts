/**
 * A batch's reads and writes reach a grown unified view by index. Batches of thousands of
 * keys were joined as sets with the view's tables, and the planner answered with hash joins
 * and filters that read whole tables for every batch (seen with auto_explain during
 * `npm run bench -- sync`): the ClickHouse read-back of customers (source_record twice and
 * customer once, each by a filter on `= ANY(…)` over the whole table), of orders (the
 * whole order table hashed), the golden fields of dirty customers, and the re-pointing of
 * absorbed customers. Those costs grew with the view, so a sync slowed down as it went.
 *
 * Here the view holds 40,000 customers with 120,000 records, its statistics taken when it
 * was a tenth of that (as in a first sync), and a batch-sized selection of 5,000 is read:
 * not one sequential scan. The first test fails on the old customer read-back (two scans of
 * source_record); in this setup the planner chose indexes for the old forms of the other
 * queries, so the other two guard the rewritten queries without reproducing the old plans.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAbsorbed } from '../../../pipelines/load/write-customers.js';
import { loadCustomerFields } from '../../../pipelines/resolve/plan.js';
import { buildRows } from '../../../pipelines/sinks/clickhouse.js';
import { inTx, scratchDatabase, type ScratchDb } from '../../helpers/unified.js';

const CUSTOMERS = 40_000;
const BATCH = 5_000;
const TABLES = ['unified.customer', 'unified.source_record', 'unified."order"'];

let db: ScratchDb;

/**
 * Customers `from`..`to`, each with a shop account, an app user and an order (records with
 * their keys), the records in no particular order of customer, as concurrent streams write them.
 */
async function grow(from: number, to: number): Promise<void> {
  await db.pool.query(`INSERT INTO unified.customer (id, name, email) SELECT g, 'Person ' || g, 'p' || g || '@example.com' FROM generate_series($1::int, $2::int) g`, [from, to]);
  await db.pool.query(
    `INSERT INTO unified.source_record (source, stream, source_key, target, customer_id, payload_hash, identity_keys, fields, mapping_version, synced_at)
     SELECT s.source, s.stream, g::text, s.target, g, md5(g::text), ARRAY['email:p' || g || '@example.com', 'phone:+86138' || lpad(g::text, 8, '0')],
            jsonb_build_object('name', 'Person ' || g), 'v1', now()
       FROM generate_series($1::int, $2::int) g,
            (VALUES ('shop_pg', 'accounts', 'customer'), ('app_mongo', 'users', 'customer'), ('orders_soap', 'orders', 'order')) AS s(source, stream, target)
      ORDER BY md5(s.stream || g)`,
    [from, to],
  );
  await db.pool.query(
    `INSERT INTO unified."order" (source, stream, source_key, customer_id, order_no, status, lines, ordered_at, synced_at)
     SELECT 'orders_soap', 'orders', g::text, g, 'SO' || g, 'paid', '[]', now(), now() FROM generate_series($1::int, $2::int) g`,
    [from, to],
  );
}

beforeAll(async () => {
  db = await scratchDatabase('batch_plans');
  await db.reset();
  // As in a first sync: the statistics were taken when the view was small, and it has grown
  // tenfold since (autovacuum off, so that it does not catch up in the middle of a test).
  for (const t of TABLES) await db.pool.query(`ALTER TABLE ${t} SET (autovacuum_enabled = false)`);
  await grow(1, CUSTOMERS / 10);
  await db.pool.query(`ANALYZE ${TABLES.join(', ')}`);
  await grow(CUSTOMERS / 10 + 1, CUSTOMERS);
}, 120_000);

afterAll(async () => {
  await db?.close();
});

/** Sequential scans of the view's big tables so far, as the statistics collector has them. */
async function seqScans(): Promise<Record<string, number>> {
  return inTx(db.pool, async (tx) => {
    await tx.query('SELECT pg_stat_force_next_flush()');
    await tx.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await tx.query<{ t: string; n: number }>(
      `SELECT relid::regclass::text AS t, seq_scan::int AS n FROM pg_stat_user_tables WHERE relid = ANY($1::regclass[])`,
      [TABLES],
    );
    return Object.fromEntries(rows.map((r) => [r.t, r.n]));
  });
}

/** Runs `work` in a transaction (rolled back unless `commit`) and returns the sequential scans it made. */
async function scansOf(work: Parameters<typeof inTx>[1], commit = false): Promise<Record<string, number>> {
  const before = await seqScans();
  const tx = await db.pool.connect();
  try {
    await tx.query('BEGIN');
    await work(tx);
    await tx.query(commit ? 'COMMIT' : 'ROLLBACK');
  } catch (err) {
    await tx.query('ROLLBACK');
    throw err;
  } finally {
    tx.release();
  }
  const after = await seqScans();
  return Object.fromEntries(Object.keys(after).map((t) => [t, after[t]! - (before[t] ?? 0)]));
}

const none = Object.fromEntries(TABLES.map((t) => [t, 0]));
const batchIds = Array.from({ length: BATCH }, (_, i) => 20_001 + i);

describe('a batch on a grown unified view (40,000 customers, 120,000 records)', () => {
  it('reads its ClickHouse rows (customers and orders) by index', async () => {
    let sent = { customers: 0, orders: 0 };
    const scans = await scansOf(async (tx) => {
      const keys = batchIds.map(String);
      const rows = await buildRows(tx, {
        orders: { source: keys.map(() => 'orders_soap'), stream: keys.map(() => 'orders'), key: keys },
        tickets: { source: [], stream: [], key: [] },
        ownersOf: batchIds.slice(0, 10),
        customerIds: batchIds,
      });
      sent = { customers: rows.customers?.length ?? 0, orders: rows.orders?.length ?? 0 };
      const first = rows.customers!.find((r) => r.customer_id === 20_001)!;
      expect(first).toMatchObject({ record_count: 3, sources: ['app_mongo', 'orders_soap', 'shop_pg'], identity_kinds: ['email', 'phone'] });
    });
    expect(sent).toEqual({ customers: BATCH, orders: BATCH });
    expect(scans).toEqual(none);
  });

  it('reads the golden fields of its dirty customers by index', async () => {
    let read = 0;
    const scans = await scansOf(async (tx) => {
      const fields = await loadCustomerFields(tx, batchIds);
      read = [...fields.values()].reduce((n, list) => n + list.length, 0);
    });
    expect(read).toBe(2 * BATCH); // the account and the app user; the order feeds no golden field
    expect(scans).toEqual(none);
  });

  it('re-points absorbed customers by index', async () => {
    // Customer 20001 absorbed ten others earlier; now it is absorbed itself, and they follow it.
    await db.pool.query('UPDATE unified.customer SET merged_into = 20001 WHERE id BETWEEN 39001 AND 39010');
    const absorbed = batchIds.slice(0, 500).map((id) => ({ id, into: id + 10_000 }));
    const scans = await scansOf((tx) => writeAbsorbed(tx, absorbed), true);
    expect(scans).toEqual(none);
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM unified.customer WHERE merged_into = 30001');
    expect(rows[0]!.n).toBe(11);
  });
});
