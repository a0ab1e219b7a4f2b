/**
 * `forgetEstate` (run by the demo when it refills the estate) against real PostgreSQL and
 * ClickHouse: the unified view, checkpoints, dead letters and the synced analytics rows are
 * emptied; run history and chat stay; customer ids are not reused afterwards.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { forgetEstate } from '../../demo/forget-estate.js';
import { applyAndSend, scratchClickhouse, type ScratchClickhouse } from '../helpers/clickhouse.js';
import { customerOf, mapped, scratchDatabase, testRules, type ScratchDb } from '../helpers/unified.js';

const rules = testRules();
let db: ScratchDb;
let ch: ScratchClickhouse;

beforeAll(async () => {
  db = await scratchDatabase('forget_estate');
  ch = await scratchClickhouse('forget_estate');
}, 60_000);
afterAll(async () => {
  await ch?.close();
  await db?.close();
});

const count = async (table: string) => Number((await db.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
const chCount = async (table: string) => Number((await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${table}`))[0]!.n);

it('empties what the hub derived from the old estate and keeps run history and chat', async () => {
  const account = mapped('shop_pg/accounts/1', { target: 'customer', fields: { name: '张伟', email: 'zw@x.cn' }, keys: [['email', 'zw@x.cn']] });
  const order = mapped('orders_soap/orders/SO1', {
    target: 'order',
    fields: { order_no: 'SO1', status: 'paid', total_amount: '10.00', currency: 'CNY', lines: [], ordered_at: '2025-03-31T17:30:00.000Z' },
    keys: [['email', 'zw@x.cn']],
  });
  await applyAndSend(db.pool, ch.client, [account, order], rules);
  const before = await customerOf(db.pool, 'shop_pg/accounts/1');
  await db.pool.query(`INSERT INTO hub.checkpoint (source, stream, cursor_value, cursor_key) VALUES ('shop_pg', 'accounts', '"2025-12-31T00:00:00Z"', '1')`);
  const run = await db.pool.query(`INSERT INTO hub.sync_run (source, stream, mode, status) VALUES ('shop_pg', 'accounts', 'full', 'succeeded') RETURNING id`);
  await db.pool.query(`INSERT INTO hub.dead_letter (run_id, source, stream, stage, error_code, error_message, payload) VALUES ($1, 'shop_pg', 'accounts', 'map', 'MAP_BAD_VALUE', 'x', '{}')`, [run.rows[0].id]);
  await db.pool.query(`INSERT INTO gateway.conversation (visitor_id, team, customer_id, opening_client_msg_id) VALUES ('v1', 'support', $1, 'c1')`, [before]);
  expect(await count('unified.source_record')).toBe(2);
  expect(await chCount('orders')).toBe(1);
  expect(await chCount('customers')).toBeGreaterThan(0);

  await forgetEstate(db.pool, ch.client);

  for (const table of ['unified.customer', 'unified.customer_identity', 'unified.source_record', 'unified."order"', 'hub.checkpoint', 'hub.dead_letter']) {
    expect(await count(table), table).toBe(0);
  }
  for (const table of ['orders', 'tickets', 'customers']) expect(await chCount(table), table).toBe(0);
  expect(await count('hub.sync_run')).toBe(1);
  expect(await count('gateway.conversation')).toBe(1);

  await applyAndSend(db.pool, ch.client, [account], rules);
  expect(await customerOf(db.pool, 'shop_pg/accounts/1')).toBeGreaterThan(before);
});
