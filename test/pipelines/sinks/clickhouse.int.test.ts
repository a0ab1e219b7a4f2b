/**
 * The ClickHouse feed against the real server (18.16 here), from hand-built batches applied
 * to a scratch unified view: a batch sent, rolled back and sent again, then updated, shows
 * each order once in its latest state; a merge re-points the absorbed customer's orders and
 * tickets to the survivor and drops it from the customer view; failures carry their code.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stackSettings } from '../../../config/env.js';
import { isJunctionError } from '../../../config/errors.js';
import { createLogger } from '../../../config/log.js';
import { applyBatch } from '../../../pipelines/load/apply-batch.js';
import { createClickhouseClient } from '../../../pipelines/sinks/clickhouse-client.js';
import { batchSelection, buildRows, cents, clickhouseRowsForBatch, insertClickhouseRows } from '../../../pipelines/sinks/clickhouse.js';
import { applyAndSend, scratchClickhouse, type ScratchClickhouse } from '../../helpers/clickhouse.js';
import { customerOf, inTx, mapped, scratchDatabase, testRules, type ScratchDb } from '../../helpers/unified.js';

const rules = testRules();
let db: ScratchDb;
let ch: ScratchClickhouse;

function order(key: string, phone: string, status: string, total: string, lines: { sku: string; qty: number; unit_price: string }[]) {
  return mapped(`orders_soap/orders/${key}`, {
    target: 'order',
    fields: { order_no: key, status, total_amount: total, currency: 'CNY', lines: lines.map((l) => ({ ...l, name: `item ${l.sku}` })), ordered_at: '2025-03-31T17:30:00.000Z' },
    keys: [['phone', phone]],
  });
}

beforeAll(async () => {
  db = await scratchDatabase('ch_sink');
  ch = await scratchClickhouse('ch_sink');
}, 60_000);

afterAll(async () => {
  await ch?.close();
  await db?.close();
});

beforeEach(async () => {
  await db.reset();
  for (const table of ['orders', 'tickets', 'customers', 'sync_runs']) await ch.client.command({ query: `TRUNCATE TABLE ${table}` });
});

describe('clickhouse sink', () => {
  it('a batch sent, rolled back, sent again (twice) and then updated shows each order once, in its latest state', async () => {
    const first = [
      order('A1', '+8613900000001', 'paid', '100.5', [{ sku: 's1', qty: 1, unit_price: '100.5' }]),
      order('A2', '+8613900000001', 'pending', '20', [{ sku: 's2', qty: 2, unit_price: '10' }]),
    ];
    // The crash: rows reach ClickHouse, the transaction does not commit.
    const tx = await db.pool.connect();
    try {
      await tx.query('BEGIN');
      const result = await applyBatch(tx, first, rules);
      await insertClickhouseRows(ch.client, await clickhouseRowsForBatch(tx, result));
      await tx.query('ROLLBACK');
    } finally {
      tx.release();
    }
    // The re-run of the batch; its insert retried once more for good measure.
    const again = await applyAndSend(db.pool, ch.client, first, rules);
    expect(again.loaded).toBe(2);
    const tx2 = await db.pool.connect();
    try {
      const rows = await clickhouseRowsForBatch(tx2, again);
      expect(rows.orders).toHaveLength(2);
      await insertClickhouseRows(ch.client, rows);
    } finally {
      tx2.release();
    }
    // A later update of A1: new status, total and lines.
    await applyAndSend(db.pool, ch.client, [order('A1', '+8613900000001', 'shipped', '1.005', [{ sku: 's1', qty: 1, unit_price: '0.5' }, { sku: 's3', qty: 3, unit_price: '0.168' }])], rules);

    const raw = await ch.rows<{ n: string }>(`SELECT count() AS n FROM orders`);
    expect(Number(raw[0]!.n)).toBeGreaterThanOrEqual(5);
    const current = await ch.rows(`SELECT source_key, status, total_amount, line_sku, line_qty, line_unit_price, customer_id, toString(ordered_at) AS ordered_at FROM orders_current ORDER BY source_key`);
    const owner = String(await customerOf(db.pool, 'orders_soap/orders/A1'));
    expect(current).toEqual([
      { source_key: 'A1', status: 'shipped', total_amount: 1.01, line_sku: ['s1', 's3'], line_qty: [1, 3], line_unit_price: [0.5, 0.17], customer_id: owner, ordered_at: '2025-03-31 17:30:00' },
      { source_key: 'A2', status: 'pending', total_amount: 20, line_sku: ['s2'], line_qty: [2], line_unit_price: [10], customer_id: owner, ordered_at: '2025-03-31 17:30:00' },
    ]);
    expect(await ch.rows(`SELECT source_key, sku, qty FROM order_lines_current ORDER BY source_key, line_no`)).toEqual([
      { source_key: 'A1', sku: 's1', qty: 1 },
      { source_key: 'A1', sku: 's3', qty: 3 },
      { source_key: 'A2', sku: 's2', qty: 2 },
    ]);
    // Background merges keep the highest version too (what the views compute now, the table becomes).
    await ch.client.command({ query: 'OPTIMIZE TABLE orders FINAL' });
    expect(await ch.rows(`SELECT source_key, status FROM orders ORDER BY source_key`)).toEqual([
      { source_key: 'A1', status: 'shipped' },
      { source_key: 'A2', status: 'pending' },
    ]);
  });

  it('a merge re-points the absorbed customer’s orders and tickets to the survivor and drops it from customers_current', async () => {
    const phone = '+8613900000002';
    await applyAndSend(db.pool, ch.client, [mapped('shop_pg/accounts/1', { fields: { name: 'Ann' }, keys: [['shop_account', '1'], ['email', 'ann@example.com']] })], rules);
    await applyAndSend(
      db.pool,
      ch.client,
      [
        order('B1', phone, 'paid', '42', [{ sku: 'x', qty: 1, unit_price: '42' }]),
        mapped('tickets_php/tickets/T1', { target: 'ticket', fields: { ticket_no: 'T1', status: 'open', priority: 'urgent', created_at: '2025-04-01T01:00:00.000Z' }, keys: [['phone', phone]] }),
      ],
      rules,
    );
    const ann = await customerOf(db.pool, 'shop_pg/accounts/1');
    const phoneOnly = await customerOf(db.pool, 'orders_soap/orders/B1');
    expect(phoneOnly).not.toBe(ann);
    expect((await ch.rows(`SELECT customer_id FROM customers_current ORDER BY customer_id`)).map((r) => Number(r.customer_id))).toEqual([ann, phoneOnly].sort((a, b) => a - b));

    // The CRM record carries both keys: one customer now, with the CRM's tier.
    const merge = await applyAndSend(
      db.pool,
      ch.client,
      [mapped('crm_oracle/customers/C9', { target: 'crm_profile', fields: { crm_id: 'C9', vip_level: '3' }, keys: [['crm_id', 'C9'], ['email', 'ann@example.com'], ['phone', phone]] })],
      rules,
    );
    expect(merge.absorbed).toHaveLength(1);
    const { id: absorbed, into: survivor } = merge.absorbed[0]!;
    expect([absorbed, survivor].sort()).toEqual([ann, phoneOnly].sort());

    expect(await ch.rows(`SELECT customer_id, vip_level, identity_kinds, record_count FROM customers_current`)).toEqual([
      { customer_id: String(survivor), vip_level: '3', identity_kinds: ['crm_id', 'email', 'phone', 'shop_account'], record_count: 4 },
    ]);
    expect(await ch.rows(`SELECT deleted, merged_into FROM customers WHERE customer_id = ${absorbed} ORDER BY version DESC LIMIT 1`)).toEqual([
      { deleted: 1, merged_into: String(survivor) },
    ]);
    expect(await ch.rows(`SELECT customer_id FROM orders_current`)).toEqual([{ customer_id: String(survivor) }]);
    expect(await ch.rows(`SELECT customer_id FROM tickets_current`)).toEqual([{ customer_id: String(survivor) }]);
    // The analysts' join sees the order under the survivor's tier.
    expect(
      await ch.rows(`SELECT c.vip_level AS vip, count() AS n FROM orders_current ANY LEFT JOIN (SELECT customer_id, vip_level FROM customers_current) AS c USING (customer_id) GROUP BY vip`),
    ).toEqual([{ vip: '3', n: '1' }]);
  });

  it('an order that moves to another customer re-sends the customer it left: record count, sources and identity keys', async () => {
    await applyAndSend(db.pool, ch.client, [mapped('shop_pg/accounts/1', { fields: { name: 'Ann' }, keys: [['shop_account', '1'], ['email', 'a@example.com']] })], rules);
    await applyAndSend(db.pool, ch.client, [mapped('shop_pg/accounts/2', { fields: { name: 'Bob' }, keys: [['shop_account', '2'], ['email', 'b@example.com']] })], rules);
    const o1 = (email: string) =>
      mapped('orders_soap/orders/O1', { target: 'order', fields: { order_no: 'O1', status: 'paid', total_amount: '10' }, keys: [['email', email], ['phone', '+8613900000077']] });
    await applyAndSend(db.pool, ch.client, [o1('a@example.com')], rules);
    await applyAndSend(db.pool, ch.client, [mapped('orders_soap/orders/O2', { target: 'order', fields: { order_no: 'O2' }, keys: [['email', 'a@example.com']] })], rules);
    const ann = await customerOf(db.pool, 'shop_pg/accounts/1');
    const bob = await customerOf(db.pool, 'shop_pg/accounts/2');
    expect(await customerOf(db.pool, 'orders_soap/orders/O1')).toBe(ann);

    // The order now carries Bob's email: it moves, and Ann's golden record does not change.
    const moved = await applyAndSend(db.pool, ch.client, [o1('b@example.com')], rules);
    expect(await customerOf(db.pool, 'orders_soap/orders/O1')).toBe(bob);
    expect(await ch.rows(`SELECT toString(customer_id) AS id, record_count, sources, identity_values FROM customers_current ORDER BY customer_id`)).toEqual(
      [
        { id: String(ann), record_count: 2, sources: ['orders_soap', 'shop_pg'], identity_values: ['a@example.com', '1'] },
        { id: String(bob), record_count: 2, sources: ['orders_soap', 'shop_pg'], identity_values: ['b@example.com', '+8613900000077', '2'] },
      ].sort((a, b) => Number(a.id) - Number(b.id)),
    );
    // The phone the order took along is on one live customer only.
    expect(await ch.rows(`SELECT toString(customer_id) AS id FROM customers_current WHERE has(identity_values, '+8613900000077')`)).toEqual([{ id: String(bob) }]);
    // customer.updated names both: the panel of the customer the order left changed too.
    expect(moved.customerIds).toEqual([ann, bob].sort((a, b) => a - b));
  });

  it('keeps birthdays before 1970 (a Date would hold 0000-00-00 on 18.16, 1970-01-01 on current ClickHouse)', async () => {
    const people: [string, string | null][] = [['B1', '1965-03-02'], ['B2', '1970-01-01'], ['B3', '1990-05-17'], ['B4', null]];
    await applyAndSend(
      db.pool,
      ch.client,
      people.map(([key, birthday]) => mapped(`shop_pg/accounts/${key}`, { fields: { name: key, ...(birthday ? { birthday } : {}) }, keys: [['shop_account', key]] })),
      rules,
    );
    expect(await ch.rows(`SELECT name, birthday FROM customers_current ORDER BY name`)).toEqual(people.map(([name, birthday]) => ({ name, birthday })));
    expect(await ch.rows(`SELECT name FROM customers_current WHERE birthday < '1970-01-01'`)).toEqual([{ name: 'B1' }]);
  });

  it('sends times a DateTime cannot hold (before 1970, after 2106) as NULL, not wrapped, and logs how many once', async () => {
    const out = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    out.on('data', (b: Buffer) => lines.push(...b.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)));
    const log = createLogger({ level: 'warn', destination: out });
    const records = [
      mapped('shop_pg/accounts/1', { fields: { name: 'Old', created_at: '1900-01-01T00:00:00.000Z', updated_at: '2025-01-02T03:04:05.000Z' }, keys: [['shop_account', '1']] }),
      mapped('orders_soap/orders/O1', {
        target: 'order',
        fields: { order_no: 'O1', status: 'paid', total_amount: '10', ordered_at: '1969-12-31T20:00:00.000Z', updated_at: '2200-01-01T00:00:00.000Z' },
        keys: [['shop_account', '1']],
      }),
      mapped('tickets_php/tickets/T1', {
        target: 'ticket',
        fields: { ticket_no: 'T1', status: 'closed', created_at: '1970-01-01T00:00:00.000Z', resolved_at: '2106-02-07T06:28:16.000Z', first_response_at: '2106-02-07T06:28:15.000Z' },
        keys: [['shop_account', '1']],
      }),
    ];
    await inTx(db.pool, async (tx) => insertClickhouseRows(ch.client, await buildRows(tx, batchSelection(await applyBatch(tx, records, rules)), { log })));

    const time = (col: string) => `if(isNull(${col}), NULL, toString(${col})) AS ${col}`;
    expect(await ch.rows(`SELECT ${time('created_at')}, ${time('updated_at')} FROM customers_current`)).toEqual([{ created_at: null, updated_at: '2025-01-02 03:04:05' }]);
    expect(await ch.rows(`SELECT ${time('ordered_at')}, ${time('updated_at')} FROM orders_current`)).toEqual([{ ordered_at: null, updated_at: null }]);
    expect(await ch.rows(`SELECT toUInt32(created_at) AS created, toUInt32(first_response_at) AS answered, ${time('resolved_at')} FROM tickets_current`)).toEqual([
      { created: 0, answered: 4_294_967_295, resolved_at: null },
    ]);
    // One line for the build, with counts per table and no record or value in it.
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.outOfRange)).toEqual([{ customers: 1, orders: 2, tickets: 1 }]);
    expect(Object.keys(lines[0]!).sort()).toEqual(['level', 'msg', 'outOfRange', 'pid', 'time', 'version']);
    expect(lines[0]!.msg).not.toMatch(/O1|T1|Old|1900|2200/);
  });

  it('an insert ClickHouse refuses is SYNC_CLICKHOUSE_FAILED and not retryable; an unreachable server is retryable', async () => {
    const refused = await insertClickhouseRows(ch.client, { no_such_table: [{ a: 1 }] }).catch((e: unknown) => e);
    expect(isJunctionError(refused) && refused.code).toBe('SYNC_CLICKHOUSE_FAILED');
    expect(isJunctionError(refused) && refused.retryable).toBe(false);
    expect(String((refused as Error).message)).toContain('no_such_table');

    const base = stackSettings();
    // Port 9 (discard) on loopback: nothing listens there.
    const down = { ...base, services: { ...base.services, clickhouse: { ...base.services.clickhouse, url: 'http://127.0.0.1:9' } } };
    const client = createClickhouseClient(down, { requestTimeoutMs: 5_000 });
    try {
      const unreachable = await insertClickhouseRows(client, { orders: [{ source: 'x' }] }).catch((e: unknown) => e);
      expect(isJunctionError(unreachable) && unreachable.code).toBe('SYNC_CLICKHOUSE_FAILED');
      expect(isJunctionError(unreachable) && unreachable.retryable).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('rounds decimals to cents on their text, as 18.16 needs', () => {
    expect([cents('1.005'), cents('-2.675'), cents('10'), cents('.5'), cents(null), cents('1e2'), cents('x')]).toEqual([1.01, -2.68, 10, 0.5, null, 100, null]);
  });
});
