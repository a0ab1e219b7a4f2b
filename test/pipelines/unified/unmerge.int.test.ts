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
    // An order known only by the phone both sides hold: it names neither, so it stays on its own.
    await apply([mapped('orders_soap/orders/O1', { target: 'order', keys: [['phone', FAMILY]] })]);
    expect(await partitionOf(db.pool)).toEqual([...split, ['orders_soap/orders/O1']]);
    // A record carrying keys of both sides joins the one its strongest key (crm_id over email) names.
    await apply([mapped('shop_pg/accounts/9', { keys: [['shop_account', '9'], ['crm_id', 'C1'], ['email', 'son@x.cn']] })]);
    expect(await customerOf(db.pool, 'shop_pg/accounts/9')).toBe(id);
    expect(await customerOf(db.pool, 'app_mongo/users/u5')).toBe(result.to);
  });

  // The family phone, held apart (`shared`) by the unmerge, also kept away the order known only
  // by it. Once one side lets go of the phone, the order joins the other; once neither holds
  // it, the order is alone again, holding it as a link. Before, the order's customer kept
  // its `shared` row and stayed alone: a key both linking and not.
  it('a record held apart by a shared key follows it once the pinned sides let go of it, as a full read decides', async () => {
    const run = async (readAll: boolean) => {
      await db.reset();
      const batch = (records: MappedRecord[]) => inTx(db.pool, (tx) => applyBatch(tx, records, rules, { readAll }));
      const phoneRows = async () => (await db.pool.query(`SELECT customer_id, state FROM unified.customer_identity WHERE kind = 'phone' ORDER BY customer_id`)).rows;
      await batch(all);
      const id = await customerOf(db.pool, 'crm_oracle/customers/C1');
      await inTx(db.pool, (tx) => unmerge(tx, id, 'tickets_php/tickets/77', rules));
      await batch([mapped('orders_soap/orders/O1', { target: 'order', keys: [['phone', FAMILY]] })]);
      await batch([mapped('tickets_php/tickets/77', { target: 'ticket', fields: { subject: 'refund 2' }, keys: [['email', 'son@x.cn']] })]);
      const sonLetGo = { partition: await partitionOf(db.pool), order: await customerOf(db.pool, 'orders_soap/orders/O1'), phone: await phoneRows() };
      expect(sonLetGo.order).toBe(id);
      expect(sonLetGo.phone).toEqual([{ customer_id: String(id), state: 'link' }]);
      await batch([
        mapped('crm_oracle/customers/C1', { target: 'crm_profile', fields: { name: '李娜 2' }, keys: [['crm_id', 'C1']] }),
        mapped('shop_pg/accounts/1', { fields: { name: '李娜 2' }, keys: [['shop_account', '1'], ['crm_id', 'C1']] }),
      ]);
      const order = await customerOf(db.pool, 'orders_soap/orders/O1');
      expect(await phoneRows()).toEqual([{ customer_id: String(order), state: 'link' }]);
      return { sonLetGo: sonLetGo.partition, motherLetGo: await partitionOf(db.pool) };
    };
    const full = await run(true);
    expect(full.sonLetGo).toEqual([['app_mongo/users/u5', 'tickets_php/tickets/77'], ['crm_oracle/customers/C1', 'orders_soap/orders/O1', 'shop_pg/accounts/1']]);
    expect(full.motherLetGo).toEqual([['app_mongo/users/u5', 'tickets_php/tickets/77'], ['crm_oracle/customers/C1', 'shop_pg/accounts/1'], ['orders_soap/orders/O1']]);
    expect(await run(false)).toEqual(full);
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

// Found by a review's fuzzing: a pinned customer's id was given to a second cluster, or the
// pinned customer was absorbed while its pinned record stayed on it.
describe('a pinned customer after later batches', () => {
  const rules100 = testRules({ phoneCap: 100 });
  const apply100 = (records: MappedRecord[]) => inTx(db.pool, (tx) => applyBatch(tx, records, rules100));
  const liveOwners = async () =>
    (
      await db.pool.query(
        `SELECT count(*)::int AS n FROM unified.source_record r JOIN unified.customer c ON c.id = r.customer_id WHERE c.merged_into IS NOT NULL`,
      )
    ).rows[0].n;

  it('stays live with its pinned record when a new record holds keys of both sides; the batch after it finishes', async () => {
    const P = '+8613911110001';
    await apply100([
      mapped('app_mongo/users/3', { fields: { name: 'Ann' }, keys: [['email', 'f@x.cn']] }),
      mapped('crm_oracle/customers/5', { target: 'crm_profile', fields: { name: 'Bob' }, keys: [['email', 'f@x.cn'], ['phone', P]] }),
    ]);
    const ann = await customerOf(db.pool, 'crm_oracle/customers/5');
    const { to: bob } = await inTx(db.pool, (tx) => unmerge(tx, ann, 'crm_oracle/customers/5', rules100));
    await apply100([mapped('shop_pg/accounts/6', { keys: [['phone', P]] })]);
    await apply100([mapped('crm_oracle/customers/10', { target: 'crm_profile', fields: { name: 'Bob' }, keys: [['email', 'f@x.cn'], ['phone', P]] })]);
    expect(await customerOf(db.pool, 'crm_oracle/customers/5')).toBe(bob);
    expect(await liveOwners()).toBe(0);
    const bobRow = await db.pool.query('SELECT merged_into, pinned FROM unified.customer WHERE id = $1', [bob]);
    expect(bobRow.rows).toEqual([{ merged_into: null, pinned: true }]);
    // Before the fix this batch went round its lock loop for ever.
    const next = await apply100([mapped('crm_oracle/customers/5', { target: 'crm_profile', fields: { name: 'Bob 2' }, keys: [['email', 'f@x.cn'], ['phone', P]] })]);
    expect(next.failures).toEqual([]);
    expect(await customerOf(db.pool, 'crm_oracle/customers/5')).toBe(bob);
  }, 30_000);

  it('sends a new record whose strongest key both sides hold to the side its next key names, whatever the refs sort as', async () => {
    const SON = '+8613911110002';
    // Mother and son share the family email; the son's shop account also has his own phone.
    await apply100([
      mapped('crm_oracle/customers/1', { target: 'crm_profile', fields: { name: '李娜' }, keys: [['email', 'fam@x.cn']] }),
      mapped('shop_pg/accounts/7', { fields: { name: '王磊' }, keys: [['email', 'fam@x.cn'], ['phone', SON]] }),
    ]);
    const mother = await customerOf(db.pool, 'crm_oracle/customers/1');
    const { to: son } = await inTx(db.pool, (tx) => unmerge(tx, mother, 'shop_pg/accounts/7', rules100));
    // The email reaches both (the mother's record sorts first); the phone only the son.
    await apply100([mapped('tickets_php/tickets/9', { target: 'ticket', keys: [['email', 'fam@x.cn'], ['phone', SON]] })]);
    expect(await customerOf(db.pool, 'tickets_php/tickets/9')).toBe(son);
    // With the email alone it names neither side: a customer of its own.
    await apply100([mapped('tickets_php/tickets/8', { target: 'ticket', keys: [['email', 'fam@x.cn']] })]);
    expect(await partitionOf(db.pool)).toEqual([['crm_oracle/customers/1'], ['shop_pg/accounts/7', 'tickets_php/tickets/9'], ['tickets_php/tickets/8']]);
    expect(await customerOf(db.pool, 'crm_oracle/customers/1')).toBe(mother);
    const email = await db.pool.query(`SELECT customer_id, state FROM unified.customer_identity WHERE kind = 'email' ORDER BY customer_id`);
    expect(email.rows.map((r: { state: string }) => r.state)).toEqual(['shared', 'shared', 'shared']);
  });

  it('reads a customer standing in as one node when a key it holds turns shared: the same as reading all its records', async () => {
    const P = '+8613911110003';
    const run = async (readAll: boolean) => {
      await db.reset();
      const batch = (records: MappedRecord[]) => inTx(db.pool, (tx) => applyBatch(tx, records, rules100, { readAll }));
      await batch([
        mapped('app_mongo/users/a1', { keys: [['email', 'a@x.cn'], ['shop_account', 'S1']] }),
        mapped('app_mongo/users/b1', { keys: [['email', 'b@x.cn'], ['shop_account', 'S1']] }),
      ]);
      const a = await customerOf(db.pool, 'app_mongo/users/a1');
      await inTx(db.pool, (tx) => unmerge(tx, a, 'app_mongo/users/b1', rules100));
      // One person and an order known by their phone: one anchor, so later batches stand it in as one node.
      await batch([mapped('crm_oracle/customers/s1', { target: 'crm_profile', keys: [['email', 's@x.cn'], ['phone', P]] }), mapped('orders_soap/orders/o1', { target: 'order', keys: [['phone', P]] })]);
      // The phone reaches both pinned customers: shared, so it links nobody, the stand-in's own records included.
      await batch([mapped('tickets_php/tickets/x', { target: 'ticket', keys: [['email', 'a@x.cn'], ['phone', P]] }), mapped('tickets_php/tickets/y', { target: 'ticket', keys: [['email', 'b@x.cn'], ['phone', P]] })]);
      const states = await db.pool.query(`SELECT DISTINCT state FROM unified.customer_identity WHERE kind = 'phone'`);
      return { partition: await partitionOf(db.pool), states: states.rows };
    };
    const all = await run(true);
    expect(all.partition).toContainEqual(['orders_soap/orders/o1']);
    expect(all.states).toEqual([{ state: 'shared' }]);
    expect(await run(false)).toEqual(all);
  });

  it('keeps its id to itself: people who share no key are not merged under it', async () => {
    await apply100([
      mapped('crm_oracle/customers/1', { target: 'crm_profile', fields: { name: 'Ann' }, keys: [['email', 'ann@x.cn'], ['shop_account', 'S3']] }),
      mapped('app_mongo/users/5', { fields: { name: 'Wrong' }, keys: [['email', 'ann@x.cn']] }),
    ]);
    const ann = await customerOf(db.pool, 'crm_oracle/customers/1');
    await inTx(db.pool, (tx) => unmerge(tx, ann, 'app_mongo/users/5', rules100));
    await apply100([mapped('app_mongo/users/3', { fields: { name: 'Eve' }, keys: [['email', 'eve@x.cn']] })]);
    await apply100([mapped('app_mongo/users/7', { fields: { name: 'Eve' }, keys: [['shop_account', 'S3']] })]);
    // app/7 swaps Ann's shop account for Eve's email: it goes to Eve, and Ann stays alone.
    await apply100([mapped('app_mongo/users/7', { fields: { name: 'Eve' }, keys: [['email', 'eve@x.cn']] })]);
    expect(await partitionOf(db.pool)).toEqual([['app_mongo/users/3', 'app_mongo/users/7'], ['app_mongo/users/5'], ['crm_oracle/customers/1']]);
    expect(await customerOf(db.pool, 'crm_oracle/customers/1')).toBe(ann);
    const name = await db.pool.query('SELECT name FROM unified.customer WHERE id = $1', [ann]);
    expect(name.rows).toEqual([{ name: 'Ann' }]);
    expect(await liveOwners()).toBe(0);
  });

  it('fails a batch whose customers never settle with ID_REGION_UNSETTLED instead of waiting for ever', async () => {
    await apply100([
      mapped('app_mongo/users/1', { keys: [['email', 'x@x.cn']] }),
      mapped('app_mongo/users/2', { keys: [['email', 'y@x.cn']] }),
    ]);
    const [x, y] = [await customerOf(db.pool, 'app_mongo/users/1'), await customerOf(db.pool, 'app_mongo/users/2')];
    // A state the resolver never writes: a customer merged away that still holds its record and identity.
    await db.pool.query('UPDATE unified.customer SET merged_into = $2 WHERE id = $1', [x, y]);
    const err = await apply100([mapped('app_mongo/users/9', { keys: [['email', 'x@x.cn']] })]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JunctionError);
    expect(err).toMatchObject({ code: 'ID_REGION_UNSETTLED', retryable: true });
    expect((err as JunctionError).message).toContain(String(x));
  }, 30_000);
  it('a second unmerge leaves the records an earlier one pinned to the customer, even those no key links any more', async () => {
    const X1 = mapped('crm_oracle/customers/X1', { target: 'crm_profile', keys: [['crm_id', 'c1'], ['email', 'x@x.cn']] });
    const X2 = (email: string) => mapped('shop_pg/accounts/X2', { keys: [['shop_account', 'X2'], ['email', email]] });
    const W = mapped('app_mongo/users/W', { keys: [['app_user', 'W'], ['email', 'x@x.cn']] });
    await apply([X1, X2('x@x.cn'), W]);
    const id = await customerOf(db.pool, 'crm_oracle/customers/X1');
    await inTx(db.pool, (tx) => unmerge(tx, id, 'app_mongo/users/W', rules));
    // X2 lets go of the email that linked it: pinned, it stays. Then R joins through the CRM id.
    await apply([X2('y@x.cn')]);
    await apply([mapped('shop_pg/accounts/R', { keys: [['shop_account', 'R'], ['crm_id', 'c1']] })]);
    expect(await customerOf(db.pool, 'shop_pg/accounts/X2')).toBe(id);
    expect(await customerOf(db.pool, 'shop_pg/accounts/R')).toBe(id);

    const result = await inTx(db.pool, (tx) => unmerge(tx, id, 'shop_pg/accounts/R', rules));
    expect(result.moved).toEqual(['shop_pg/accounts/R']);
    expect(await partitionOf(db.pool)).toEqual([['app_mongo/users/W'], ['crm_oracle/customers/X1', 'shop_pg/accounts/X2'], ['shop_pg/accounts/R']]);
    expect(await customerOf(db.pool, 'shop_pg/accounts/X2')).toBe(id);
  });
});
