/**
 * Unmerge: a wrongly merged record leaves with what only it linked, is pinned, and a
 * re-sync (unchanged or changed records, new records with keys of both) keeps it apart.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JunctionError } from '../../../config/errors.js';
import { applyBatch } from '../../../pipelines/load/apply-batch.js';
import type { MappedRecord } from '../../../pipelines/types.js';
import { unmerge } from '../../../pipelines/unified/unmerge.js';
import { customerOf, inTx, mapped, partitionOf, scratchDatabase, testRules, type ScratchDb } from '../../helpers/unified.js';

let db: ScratchDb;
const rules = testRules({ phoneCap: 5 });
const apply = (records: MappedRecord[]) => inTx(db.pool, (tx) => applyBatch(tx, records, rules));

beforeAll(async () => {
  db = await scratchDatabase('unmerge');
});
afterAll(async () => {
  await db?.close();
});
beforeEach(async () => {
  await db.reset();
});

// Mother and son share the family phone (under the cap, so it merged them); the son's
// app user is linked to him only through his ticket's email.
const FAMILY = '+8613911112222';
const mother = mapped('crm_oracle/customers/C1', { target: 'crm_profile', fields: { name: '李娜' }, keys: [['crm_id', 'C1'], ['phone', FAMILY]] });
const motherShop = mapped('shop_pg/accounts/1', { fields: { name: '李娜' }, keys: [['shop_account', '1'], ['crm_id', 'C1'], ['phone', FAMILY]] });
const sonTicket = mapped('tickets_php/tickets/77', { target: 'ticket', fields: { subject: 'refund' }, keys: [['email', 'son@x.cn'], ['phone', FAMILY]] });
const sonApp = mapped('app_mongo/users/u5', { fields: { nickname: 'leo' }, keys: [['email', 'son@x.cn']] });
const all = [mother, motherShop, sonTicket, sonApp];

describe('unmerge', () => {
  it('splits the record and what only it linked into a new customer, and a re-sync keeps them apart', async () => {
    await apply(all);
    const id = await customerOf(db.pool, 'crm_oracle/customers/C1');
    expect(await partitionOf(db.pool)).toHaveLength(1);

    const result = await inTx(db.pool, (tx) => unmerge(tx, id, 'tickets_php/tickets/77', rules));
    expect(result).toMatchObject({ from: id, moved: ['tickets_php/tickets/77', 'app_mongo/users/u5'] });
    const split = [
      ['app_mongo/users/u5', 'tickets_php/tickets/77'],
      ['crm_oracle/customers/C1', 'shop_pg/accounts/1'],
    ];
    expect(await partitionOf(db.pool)).toEqual(split);
    expect(await customerOf(db.pool, 'tickets_php/tickets/77')).toBe(result.to);
    const ticket = await db.pool.query('SELECT customer_id FROM unified.ticket');
    expect(ticket.rows).toEqual([{ customer_id: String(result.to) }]);
    const phone = await db.pool.query(`SELECT customer_id, state FROM unified.customer_identity WHERE kind = 'phone' ORDER BY customer_id`);
    expect(phone.rows).toEqual([{ customer_id: String(id), state: 'shared' }, { customer_id: String(result.to), state: 'shared' }]);
    const golden = await db.pool.query('SELECT id, name, nickname FROM unified.customer WHERE id = ANY($1) ORDER BY id', [[id, result.to]]);
    expect(golden.rows).toEqual([{ id: String(id), name: '李娜', nickname: null }, { id: String(result.to), name: null, nickname: 'leo' }]);
    const log = await db.pool.query('SELECT action, customer_id, absorbed_id, evidence FROM unified.merge_log');
    expect(log.rows).toEqual([{ action: 'unmerge', customer_id: String(result.to), absorbed_id: String(id), evidence: { records: result.moved, path: [], requested: 'tickets_php/tickets/77' } }]);

    // Re-sync: the same records (skipped), then changed ones (re-resolved), then a new order with the family phone.
    expect(await apply(all)).toMatchObject({ unchanged: 4, loaded: 0 });
    const changed = all.map((r) => mapped(`${r.source}/${r.stream}/${r.sourceKey}`, { target: r.target, fields: { ...r.fields, updated_at: '2026-01-01T00:00:00Z' }, keys: r.identities.map((k) => [k.kind, k.value] as [string, string]) }));
    expect(await apply(changed)).toMatchObject({ loaded: 4, merged: 0, customersCreated: 0 });
    expect(await partitionOf(db.pool)).toEqual(split);
    await apply([mapped('orders_soap/orders/O1', { target: 'order', keys: [['phone', FAMILY]] })]);
    expect(await partitionOf(db.pool)).toHaveLength(2);
    // A record carrying keys of both sides joins the one its strongest key (crm_id over email) names.
    await apply([mapped('shop_pg/accounts/9', { keys: [['shop_account', '9'], ['crm_id', 'C1'], ['email', 'son@x.cn']] })]);
    expect(await customerOf(db.pool, 'shop_pg/accounts/9')).toBe(id);
    expect(await customerOf(db.pool, 'app_mongo/users/u5')).toBe(result.to);
  });

  it.each([
    ['a record of another customer', 'app_mongo/users/zzz'],
    ['the only record', 'crm_oracle/customers/C1'],
  ])('refuses %s (ID_UNMERGE_REFUSED)', async (what, ref) => {
    await apply(what === 'the only record' ? [mother] : all);
    const id = await customerOf(db.pool, 'crm_oracle/customers/C1');
    const err = await inTx(db.pool, (tx) => unmerge(tx, id, ref, rules)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JunctionError);
    expect((err as JunctionError).code).toBe('ID_UNMERGE_REFUSED');
  });
});
