/**
 * Packed lineage (pipelines/load/lineage.ts): what is packed in TypeScript comes back
 * spelled out, field for field, both from `unpackLineage` and from the SQL function
 * `unified.lineage_expanded` that readers use; lineage stored before packing reads as is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lineage } from '../../../pipelines/load/golden.js';
import { packLineage, unpackLineage } from '../../../pipelines/load/lineage.js';
import { scratchDatabase, type ScratchDb } from '../../helpers/unified.js';

let db: ScratchDb;
beforeAll(async () => {
  db = await scratchDatabase('lineage');
});
afterAll(async () => {
  await db?.close();
});

const at = '2026-11-22T19:12:58.295Z';
const of = (source: string, stream: string, key: string, mapping: string | null, rule: Lineage['rule'] = 'most_recent', syncedAt = at): Lineage =>
  ({ source, stream, source_key: key, mapping, synced_at: syncedAt, rule });

const cases: [string, Record<string, Lineage>][] = [
  ['no field', {}],
  ['one record feeding several fields', { city: of('shop_pg', 'addresses', '51136', 'mappings/shop_pg.addresses.yaml:15'), address: of('shop_pg', 'addresses', '51136', 'mappings/shop_pg.addresses.yaml:17') }],
  ['several records and rules', {
    name: of('crm_oracle', 'customers', 'C1', 'mappings/crm_oracle.customers.yaml:12', 'source_priority'),
    city: of('app_mongo', 'users', 'u1', 'mappings/app_mongo.users.yaml:21'),
    created_at: of('shop_pg', 'accounts', '5', 'mappings/shop_pg.accounts.yaml:9', 'first_non_null'),
  }],
  ['the same record at two sync times stays two records', { name: of('shop_pg', 'accounts', '5', 'm.yaml:1'), city: of('shop_pg', 'accounts', '5', 'm.yaml:2', 'most_recent', '2026-11-23T00:00:00.000Z') }],
  ['a field without a known mapping, then one with', { email: of('shop_pg', 'accounts', '5', null), phone: of('shop_pg', 'accounts', '5', 'mappings/a.yaml:4') }],
  ['a field defined in another file and a mapping not of the file:line form', { email: of('shop_pg', 'accounts', '5', 'mappings/a.yaml:4'), phone: of('shop_pg', 'accounts', '5', 'mappings/b.yaml:7'), city: of('shop_pg', 'accounts', '5', 'inline') }],
  ['keys and names with quotes, colons and non-ASCII', { name: of('crm:oracle', 'cust"omers', '王:1', 'mappings/x:y.yaml:3') }],
];

describe('packed lineage', () => {
  it.each(cases)('%s: unpacks to what was packed, in TypeScript and in SQL', async (_name, lineage) => {
    const packed = packLineage(lineage);
    expect(unpackLineage(packed)).toEqual(lineage);
    const { rows } = await db.pool.query('SELECT unified.lineage_expanded($1::jsonb) AS l', [JSON.stringify(packed)]);
    expect(rows[0].l).toEqual(lineage);
  });

  it('names each record once: a customer fed by three records is far below the 2 KB TOAST threshold', () => {
    const fields = ['name', 'email', 'phone', 'nickname', 'gender', 'birthday', 'province', 'city', 'address', 'vip_level', 'account_manager', 'created_at', 'updated_at'];
    const streams = ['customers', 'accounts', 'addresses'];
    const lineage = Object.fromEntries(fields.map((f, i) => [f, of('shop_pg', streams[i % 3]!, `K${i % 3}`, `mappings/shop_pg.${streams[i % 3]}.yaml:${10 + i}`)]));
    const packed = packLineage(lineage);
    expect(packed.r).toHaveLength(3);
    expect(JSON.stringify(packed).length).toBeLessThan(JSON.stringify(lineage).length / 3);
  });

  it('returns lineage stored before packing unchanged', async () => {
    const old = { city: of('shop_pg', 'addresses', '1', 'mappings/shop_pg.addresses.yaml:15') };
    const { rows } = await db.pool.query('SELECT unified.lineage_expanded($1::jsonb) AS l, unified.lineage_expanded($2::jsonb) AS e', [JSON.stringify(old), '{}']);
    expect(rows[0].l).toEqual(old);
    expect(rows[0].e).toEqual({});
  });
});
