/**
 * repairClickhouse against the real server: what rolled-back batches left in ClickHouse (a
 * ghost customer, a merge that did not happen, an order that was never committed) is put
 * right, rows of a transaction still open are left alone, and a second repair finds nothing.
 * Customers sent before ClickHouse migration 004, whose birthday reads NULL, are sent again,
 * and so are customers whose record count ClickHouse has wrong.
 * (Sync runs with no trigger: clickhouse-repair-runs.int.test.ts.)
 */
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyBatch } from '../../../pipelines/load/apply-batch.js';
import { repairClickhouse } from '../../../pipelines/sinks/clickhouse-repair.js';
import { buildRows, clickhouseRowsForBatch, insertClickhouseRows, pgClockVersion } from '../../../pipelines/sinks/clickhouse.js';
import type { MappedRecord } from '../../../pipelines/types.js';
import { runCli } from '../../helpers/cli.js';
import { applyAndSend, scratchClickhouse, type ScratchClickhouse } from '../../helpers/clickhouse.js';
import { customerOf, inTx, mapped, scratchDatabase, testRules, type ScratchDb } from '../../helpers/unified.js';

const rules = testRules();
let db: ScratchDb;
let ch: ScratchClickhouse;

const account = (id: string, email: string) => mapped(`shop_pg/accounts/${id}`, { fields: { name: `n${id}` }, keys: [['shop_account', id], ['email', email]] });
const order = (key: string, phone: string) =>
  mapped(`orders_soap/orders/${key}`, { target: 'order', fields: { order_no: key, status: 'paid', total_amount: '5', ordered_at: '2025-05-01T00:00:00.000Z' }, keys: [['phone', phone]] });

/** Applies and sends a batch, then leaves its transaction open for `then`, which ends it. */
async function sendUncommitted(records: MappedRecord[], then: (tx: pg.PoolClient) => Promise<void> = (tx) => tx.query('ROLLBACK').then(() => undefined)): Promise<void> {
  const tx = await db.pool.connect();
  try {
    await tx.query('BEGIN');
    await insertClickhouseRows(ch.client, await clickhouseRowsForBatch(tx, await applyBatch(tx, records, rules)));
    await then(tx);
  } finally {
    tx.release();
  }
}

/** The views against PostgreSQL: live customers, and each order and ticket under its customer. */
async function expectViewsMatch(): Promise<void> {
  const pgCustomers = (await db.pool.query(`SELECT id::text FROM unified.customer WHERE merged_into IS NULL ORDER BY id`)).rows.map((r) => r.id);
  const chCustomers = (await ch.rows<{ id: string }>(`SELECT toString(customer_id) AS id FROM customers_current ORDER BY customer_id`)).map((r) => r.id);
  expect(chCustomers).toEqual(pgCustomers);
  for (const [view, table] of [['orders_current', 'unified."order"'], ['tickets_current', 'unified.ticket']]) {
    const want = (await db.pool.query(`SELECT source_key, customer_id::text FROM ${table} ORDER BY source_key`)).rows;
    expect(await ch.rows(`SELECT source_key, toString(customer_id) AS customer_id FROM ${view} ORDER BY source_key`), view).toEqual(want);
  }
}

beforeAll(async () => {
  db = await scratchDatabase('ch_repair');
  ch = await scratchClickhouse('ch_repair');
}, 60_000);

afterAll(async () => {
  await ch?.close();
  await db?.close();
});

beforeEach(async () => {
  await db.reset();
  for (const table of ['orders', 'tickets', 'customers']) await ch.client.command({ query: `TRUNCATE TABLE ${table}` });
});

describe('repairClickhouse', () => {
  it('tombstones the customer a rolled-back attempt created, and the order no attempt committed', async () => {
    const batch = [account('1', 'a@example.com'), order('O1', '+8613900000011')];
    await sendUncommitted(batch);
    await applyAndSend(db.pool, ch.client, batch, rules);
    // An order sent by a batch that rolled back and never came again.
    await sendUncommitted([order('GHOST', '+8613900000012')]);
    const ghosts = Number((await ch.rows<{ n: string }>(`SELECT count() AS n FROM customers_current`))[0]!.n);
    expect(ghosts).toBe(5); // two ghosts of the first attempt, two live, one of the ghost order
    const summary = await repairClickhouse(db.pool, ch.client);
    expect(summary.tombstoned).toEqual({ customers: 3, orders: 1, tickets: 0 });
    expect(summary.resent).toEqual({ customers: 0, orders: 0, tickets: 0 });
    await expectViewsMatch();
    const again = await repairClickhouse(db.pool, ch.client);
    expect([again.resent, again.tombstoned]).toEqual([{ customers: 0, orders: 0, tickets: 0 }, { customers: 0, orders: 0, tickets: 0 }]);
  });

  it('undoes a merge whose transaction rolled back: the absorbed customer and its order come back', async () => {
    const phone = '+8613900000021';
    await applyAndSend(db.pool, ch.client, [account('2', 'b@example.com')], rules);
    await applyAndSend(db.pool, ch.client, [order('O2', phone)], rules);
    const crm = mapped('crm_oracle/customers/C2', { target: 'crm_profile', fields: { crm_id: 'C2', vip_level: '1' }, keys: [['crm_id', 'C2'], ['email', 'b@example.com'], ['phone', phone]] });
    await sendUncommitted([crm]);
    // ClickHouse saw the merge; PostgreSQL did not.
    expect(Number((await ch.rows<{ n: string }>(`SELECT count() AS n FROM customers_current`))[0]!.n)).toBe(1);
    const summary = await repairClickhouse(db.pool, ch.client);
    expect(summary.resent.orders).toBe(1);
    expect(summary.resent.customers).toBeGreaterThanOrEqual(1);
    await expectViewsMatch();
    expect(await ch.rows(`SELECT toString(customer_id) AS c FROM orders_current`)).toEqual([{ c: String(await customerOf(db.pool, 'orders_soap/orders/O2')) }]);
  });

  it('leaves the rows of a transaction that is still open alone', async () => {
    await sendUncommitted([account('3', 'c@example.com'), order('O3', '+8613900000031')], async (tx) => {
      const summary = await repairClickhouse(db.pool, ch.client);
      expect(summary.checked).toEqual({ customers: 0, orders: 0, tickets: 0 });
      await tx.query('COMMIT');
    });
    await expectViewsMatch();
    const after = await repairClickhouse(db.pool, ch.client);
    expect(after.checked.orders).toBe(1);
    expect([after.resent, after.tombstoned]).toEqual([{ customers: 0, orders: 0, tickets: 0 }, { customers: 0, orders: 0, tickets: 0 }]);
  });

  it('re-sends the customers whose birthday ClickHouse reads as NULL (sent before migration 004) when PostgreSQL has one', async () => {
    const person = (key: string, birthday?: string) => mapped(`shop_pg/accounts/${key}`, { fields: { name: key, ...(birthday ? { birthday } : {}) }, keys: [['shop_account', key]] });
    await applyAndSend(db.pool, ch.client, [person('B1', '1965-03-02'), person('B2', '1990-05-17'), person('B3')], rules);
    // As older versions left them: 1965-03-02 was day 0 of a Date, which reads 0000-00-00
    // after migration 004; B2's row has none at all; B3 has no birthday anywhere.
    await ch.client.command({ query: 'TRUNCATE TABLE customers' });
    const none = { source: [], stream: [], key: [] };
    const rows = await inTx(db.pool, async (tx) => {
      const ids = (await tx.query(`SELECT id FROM unified.customer ORDER BY id`)).rows.map((r) => Number(r.id));
      return buildRows(tx, { orders: none, tickets: none, ownersOf: [], customerIds: ids });
    });
    const old: Record<string, string | null> = { B1: '0000-00-00', B2: null, B3: null };
    await insertClickhouseRows(ch.client, { customers: rows.customers!.map((r) => ({ ...r, birthday: old[String(r.name)] })) });
    const birthdays = () => ch.rows(`SELECT name, birthday FROM customers_current ORDER BY name`);
    expect(await birthdays()).toEqual([{ name: 'B1', birthday: null }, { name: 'B2', birthday: null }, { name: 'B3', birthday: null }]);

    const summary = await repairClickhouse(db.pool, ch.client);
    expect(summary).toMatchObject({ resent: { customers: 2, orders: 0, tickets: 0 }, tombstoned: { customers: 0, orders: 0, tickets: 0 }, birthdays: 2 });
    expect(await birthdays()).toEqual([{ name: 'B1', birthday: '1965-03-02' }, { name: 'B2', birthday: '1990-05-17' }, { name: 'B3', birthday: null }]);
    await expectViewsMatch();
    const sent = await ch.rows(`SELECT count() AS n FROM customers`);
    const again = await repairClickhouse(db.pool, ch.client);
    expect(again).toMatchObject({ checked: { customers: 3 }, resent: { customers: 0 }, tombstoned: { customers: 0 }, birthdays: 0 });
    expect(await ch.rows(`SELECT count() AS n FROM customers`)).toEqual(sent);
  });

  it('re-sends the customers whose record count ClickHouse has wrong (older versions did not re-send the customer an order left)', async () => {
    await applyAndSend(db.pool, ch.client, [account('5', 'e@example.com'), account('6', 'f@example.com')], rules);
    const o = (email: string) =>
      mapped('orders_soap/orders/O5', { target: 'order', fields: { order_no: 'O5', status: 'paid', total_amount: '5' }, keys: [['email', email], ['phone', '+8613900000051']] });
    await applyAndSend(db.pool, ch.client, [o('e@example.com')], rules);
    await applyAndSend(db.pool, ch.client, [mapped('orders_soap/orders/O6', { target: 'order', fields: { order_no: 'O6' }, keys: [['email', 'e@example.com']] })], rules);
    const left = await customerOf(db.pool, 'shop_pg/accounts/5');
    const none = { source: [], stream: [], key: [] };
    const before = await inTx(db.pool, (tx) => buildRows(tx, { orders: none, tickets: none, ownersOf: [], customerIds: [left] }));
    await applyAndSend(db.pool, ch.client, [o('f@example.com')], rules);
    expect(await customerOf(db.pool, 'orders_soap/orders/O5')).toBe(await customerOf(db.pool, 'shop_pg/accounts/6'));
    // As older versions left it: the customer the order left still counts it, and holds its phone.
    const version = await pgClockVersion(db.pool);
    // And a ghost with an id far beyond the others (the repair reads ClickHouse by ranges of ids).
    await insertClickhouseRows(ch.client, { customers: [...before.customers!.map((r) => ({ ...r, version })), { ...before.customers![0]!, customer_id: 120_000, version }] });
    const counts = () => ch.rows(`SELECT toString(customer_id) AS id, record_count, has(identity_values, '+8613900000051') AS phone FROM customers_current WHERE customer_id = ${left}`);
    expect(await counts()).toEqual([{ id: String(left), record_count: 3, phone: 1 }]);

    const summary = await repairClickhouse(db.pool, ch.client);
    expect(summary).toMatchObject({ resent: { customers: 1, orders: 0, tickets: 0 }, tombstoned: { customers: 1, orders: 0, tickets: 0 }, recordCounts: 1, birthdays: 0 });
    expect(await counts()).toEqual([{ id: String(left), record_count: 2, phone: 0 }]);
    await expectViewsMatch();
    const again = await repairClickhouse(db.pool, ch.client);
    expect(again).toMatchObject({ resent: { customers: 0 }, tombstoned: { customers: 0 }, recordCounts: 0 });
  });

  it('runs as junction analytics repair, which prints its summary, and --since leaves older rows unchecked', async () => {
    const env = { JUNCTION_PG_URL: db.url, JUNCTION_CLICKHOUSE_DATABASE: ch.database };
    await applyAndSend(db.pool, ch.client, [account('4', 'd@example.com')], rules);
    await sendUncommitted([order('GHOST4', '+8613900000041')]);
    const later = await runCli(['analytics', 'repair', '--since', new Date(Date.now() + 3_600_000).toISOString(), '--json'], env);
    expect(later.code, later.stderr).toBe(0);
    expect(JSON.parse(later.stdout)).toMatchObject({ checked: { customers: 0, orders: 0, tickets: 0 }, tombstoned: { orders: 0 } });

    const res = await runCli(['analytics', 'repair', '--json'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(res.stdout)).toMatchObject({ checked: { orders: 1 }, tombstoned: { customers: 1, orders: 1, tickets: 0 }, resent: { orders: 0 }, birthdays: 0, syncRuns: { resent: 0, missing: 0 } });
    await expectViewsMatch();
    const text = await runCli(['analytics', 'repair'], env);
    expect(text.stdout).toMatch(
      /^checked \d+ customers, \d+ orders, \d+ tickets .*\nre-sent 0 customers, 0 orders, 0 tickets .*\(0 customers for a birthday .*\ntombstoned 0 customers, 0 orders, 0 tickets .*\nsync runs with no trigger .*: re-sent 0 .*, left 0 /,
    );
  });
});
