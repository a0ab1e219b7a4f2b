/**
 * Loading into the unified view: idempotent reloads (no row is rewritten), in-place
 * updates, survivorship per rule with lineage, custom attributes, bad values.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyBatch } from '../../../pipelines/load/apply-batch.js';
import type { MappedRecord } from '../../../pipelines/types.js';
import { customerOf, inTx, mapped, scratchDatabase, testRules, type ScratchDb } from '../../helpers/unified.js';

let db: ScratchDb;
const rules = testRules({
  survivorship: {
    default: 'most_recent',
    fields: {
      name: { rule: 'source_priority', sources: ['crm_oracle', 'shop_pg'] },
      created_at: { rule: 'first_non_null' },
    },
  },
  attributes: { loyalty_points: { type: 'integer' }, newsletter: { type: 'boolean' } },
});

beforeAll(async () => {
  db = await scratchDatabase('load');
});
afterAll(async () => {
  await db?.close();
});
beforeEach(async () => {
  await db.reset();
});

const apply = (records: MappedRecord[]) => inTx(db.pool, (tx) => applyBatch(tx, records, rules));

const crm = mapped('crm_oracle/customers/C1', {
  target: 'crm_profile',
  fields: { crm_id: 'C1', name: '王芳', vip_level: 'gold', updated_at: '2024-01-01T00:00:00+08:00' },
  keys: [['crm_id', 'C1'], ['email', 'wf@x.cn']],
  lines: { name: 12 },
});
const shop = mapped('shop_pg/accounts/5', {
  fields: { name: 'Wang Fang', city: '上海', created_at: '2020-03-01T00:00:00+08:00', updated_at: '2025-06-01T00:00:00+08:00', loyalty_points: 120 },
  keys: [['shop_account', '5'], ['email', 'wf@x.cn']],
});
const app = mapped('app_mongo/users/u1', {
  fields: { nickname: '芳芳🌸', city: '北京', created_at: '2021-01-01T00:00:00Z', updated_at: '2025-12-01T00:00:00Z', name: 'fang' },
  keys: [['email', 'wf@x.cn']],
  lines: { city: 21 },
});
const order = mapped('orders_soap/orders/O1', {
  target: 'order',
  fields: { order_no: 'O1', status: 'paid', total_amount: '398.00', currency: 'CNY', lines: [{ sku: 'A', qty: 2 }], ordered_at: '2025-01-02T03:04:05+08:00' },
  keys: [['crm_id', 'C1']],
});

/** `xmin` of every row of the unified tables: unchanged xmins mean no row was rewritten. */
async function rowVersions(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of ['customer', 'customer_identity', 'source_record', '"order"', 'crm_profile', 'customer_attribute', 'merge_log']) {
    const { rows } = await db.pool.query<{ v: string }>(`SELECT xmin::text || ':' || ctid::text AS v FROM unified.${t} ORDER BY 1`);
    out[t] = rows.map((r) => r.v);
  }
  return out;
}

describe('idempotent loading', () => {
  it('re-loading unchanged records writes no row', async () => {
    expect(await apply([crm, shop, app, order])).toMatchObject({ loaded: 4, unchanged: 0, customersCreated: 1 });
    const before = await rowVersions();
    expect(before.customer_attribute).toHaveLength(1);
    expect(await apply([order, app, shop, crm])).toEqual({
      customersCreated: 0, merged: 0, loaded: 0, unchanged: 4, failures: [], written: [], moved: [], absorbed: [], customerIds: [],
    });
    expect(await rowVersions()).toEqual(before);
  });

  it('a changed record updates its rows in place', async () => {
    await apply([crm, shop, order]);
    const keys = await db.pool.query('SELECT source, stream, source_key, customer_id FROM unified.source_record ORDER BY 1, 2, 3');
    const changed = mapped('orders_soap/orders/O1', { target: 'order', fields: { ...order.fields, status: 'shipped' }, keys: [['crm_id', 'C1']] });
    expect(await apply([changed])).toMatchObject({ loaded: 1, unchanged: 0, customersCreated: 0 });
    expect((await db.pool.query('SELECT source, stream, source_key, customer_id FROM unified.source_record ORDER BY 1, 2, 3')).rows).toEqual(keys.rows);
    const rows = await db.pool.query(`SELECT status, total_amount::text, lines FROM unified."order"`);
    expect(rows.rows).toEqual([{ status: 'shipped', total_amount: '398.00', lines: [{ sku: 'A', qty: 2 }] }]);
  });

  it('an unchanged source record mapped by an edited mapping updates its rows, once', async () => {
    await apply([crm, shop, order]);
    // The same source payload (same hash) through a new version of the mapping.
    const remapped: MappedRecord = { ...order, fields: { ...order.fields, status: 'shipped' }, mappingVersion: 'mappings/orders_soap.orders.yaml@v2' };
    expect(remapped.payloadHash).toBe(order.payloadHash);
    expect(await apply([remapped])).toMatchObject({ loaded: 1, unchanged: 0 });
    const { rows } = await db.pool.query(`SELECT o.status, sr.mapping_version FROM unified."order" o JOIN unified.source_record sr USING (source, stream, source_key)`);
    expect(rows).toEqual([{ status: 'shipped', mapping_version: 'mappings/orders_soap.orders.yaml@v2' }]);
    expect(await apply([remapped])).toMatchObject({ loaded: 0, unchanged: 1 });
  });
});

describe('values that COPY must escape', () => {
  it('keeps quotes, backslashes, tabs, newlines and \\N intact, in fields, keys and record keys', async () => {
    const nasty = 'a "q" \\ b\tc\nd\re \\N ,;{}';
    const r = mapped(`shop_pg/accounts/${nasty}`, { fields: { name: nasty, address: null }, keys: [['shop_account', nasty], ['email', 'x@y.cn']] });
    await apply([r]);
    const { rows } = await db.pool.query('SELECT source_key, identity_keys, fields FROM unified.source_record');
    expect(rows).toEqual([{ source_key: nasty, identity_keys: ['email:x@y.cn', `shop_account:${nasty}`], fields: { name: nasty, address: null } }]);
    expect(await apply([r])).toMatchObject({ unchanged: 1 });
  });
});

describe('survivorship and lineage', () => {
  it.each([
    ['crm, shop, app', [crm, shop, app]],
    ['app, shop, crm in three batches', [app, shop, crm]],
  ])('picks each field by its rule, whatever the load order (%s)', async (_order, records) => {
    if (records[0] === crm) await apply(records);
    else for (const r of records) await apply([r]);
    const id = await customerOf(db.pool, 'shop_pg/accounts/5');
    const { rows } = await db.pool.query('SELECT name, city, nickname, vip_level, created_at, updated_at, unified.lineage_expanded(lineage) AS lineage FROM unified.customer WHERE id = $1', [id]);
    const c = rows[0];
    expect(c).toMatchObject({ name: '王芳', city: '北京', nickname: '芳芳🌸', vip_level: 'gold' });
    expect(c.created_at.toISOString()).toBe('2020-02-29T16:00:00.000Z'); // first_non_null: the earliest created_at
    expect(c.updated_at.toISOString()).toBe('2025-12-01T00:00:00.000Z');
    expect(c.lineage.name).toMatchObject({ source: 'crm_oracle', stream: 'customers', source_key: 'C1', mapping: 'mappings/crm_oracle.customers.yaml:12', rule: 'source_priority' });
    expect(c.lineage.city).toMatchObject({ source: 'app_mongo', stream: 'users', source_key: 'u1', mapping: 'mappings/app_mongo.users.yaml:21', rule: 'most_recent' });
    expect(c.lineage.created_at).toMatchObject({ source: 'shop_pg', source_key: '5', rule: 'first_non_null' });
    expect(Date.parse(c.lineage.name.synced_at)).not.toBeNaN();
    expect(Object.keys(c.lineage).sort()).toEqual(['city', 'created_at', 'name', 'nickname', 'updated_at', 'vip_level']);
  });

  it('keeps typed custom attributes with lineage', async () => {
    await apply([shop, mapped('shop_pg/accounts/6', { fields: { newsletter: true }, keys: [['shop_account', '6']] })]);
    const { rows } = await db.pool.query('SELECT name, type, value_integer, value_boolean, lineage FROM unified.customer_attribute ORDER BY name');
    expect(rows.map((r) => [r.name, r.type, r.value_integer, r.value_boolean])).toEqual([
      ['loyalty_points', 'integer', '120', null],
      ['newsletter', 'boolean', null, true],
    ]);
    expect(rows[0].lineage).toMatchObject({ source: 'shop_pg', source_key: '5' });
  });
});

describe('values that do not fit', () => {
  it.each([
    ['a datetime without offset', { target: 'order', fields: { ordered_at: '2025-01-02 03:04:05' } }, 'ordered_at: expected an ISO-8601 datetime with offset'],
    ['a value outside the enum', { target: 'order', fields: { status: 'lost' } }, 'status: expected one of'],
    ['a decimal that is not one', { target: 'order', fields: { total_amount: '12,50' } }, 'total_amount: expected decimal'],
    ['a field the model does not have', { target: 'customer', fields: { shoe_size: 42 } }, 'shoe_size: not a field of customer'],
    ['a NUL character in a text field', { target: 'customer', fields: { name: 'Wang\u0000' } }, 'name holds a NUL character (U+0000)'],
    ['a NUL character inside a json field', { target: 'order', fields: { lines: [{ sku: 'A' }, { sku: 'B\u0000' }] } }, 'lines[1].sku holds a NUL character'],
    ['a lone surrogate in a text field', { target: 'customer', fields: { name: 'Wang \ud83d' } }, 'name holds a lone UTF-16 surrogate'],
    ['a lone surrogate inside a json field', { target: 'order', fields: { lines: [{ sku: 'A' }, { 'B\udc00': 1 }] } }, 'lines[1]."B\\udc00" holds a lone UTF-16 surrogate'],
  ] as const)('%s fails that record only (ID_INVALID_VALUE)', async (_name, spec, message) => {
    const bad = mapped('x/y/bad', { target: spec.target, fields: spec.fields as MappedRecord['fields'] });
    const result = await apply([bad, shop]);
    expect(result.loaded).toBe(1);
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]).toMatchObject({ source: 'x', stream: 'y', sourceKey: 'bad', stage: 'load', code: 'ID_INVALID_VALUE' });
    expect(result.failures[0]!.message).toContain(message);
  });

  it('a lone surrogate in the key or an identity fails that record only (ID_INVALID_VALUE)', async () => {
    const badKey = mapped('x/y/bad\ud83d', { fields: { name: 'A' } });
    const badIdentity = mapped('x/y/bad2', { fields: { name: 'B' }, keys: [['email', 'b\ude00@y.cn']] });
    const result = await apply([badKey, badIdentity, shop]);
    expect(result.loaded).toBe(1);
    expect(result.failures.map((f) => [f.sourceKey, f.code, f.message])).toEqual([
      ['bad\ud83d', 'ID_INVALID_VALUE', expect.stringMatching(/^key holds a lone UTF-16 surrogate/)],
      ['bad2', 'ID_INVALID_VALUE', expect.stringMatching(/^identity email holds a lone UTF-16 surrogate/)],
    ]);
  });
});
