/**
 * Identity resolution against a real PostgreSQL (scratch database): which records become
 * one customer, with keys normalized as the map stage does (pipelines/normalize.ts).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyBatch } from '../../../pipelines/load/apply-batch.js';
import { normalizeEmail, normalizePhone } from '../../../pipelines/normalize.js';
import { customerOf, inTx, mapped, partitionOf, scratchDatabase, testRules, type ScratchDb } from '../../helpers/unified.js';

let db: ScratchDb;
const rules = testRules({ phoneCap: 2 });
const email = (e: string) => normalizeEmail(e)!;
const phone = (p: string) => normalizePhone(p, 'CN')!;

beforeAll(async () => {
  db = await scratchDatabase('resolve');
});
afterAll(async () => {
  await db?.close();
});
beforeEach(async () => {
  await db.reset();
});

const apply = (records: Parameters<typeof applyBatch>[1], r = rules) => inTx(db.pool, (tx) => applyBatch(tx, records, r));

describe('linking keys', () => {
  it.each([
    ['emails differing in case and spaces', [' Ann.Lee@Example.COM', 'ann.lee@example.com', 'ANN.LEE@EXAMPLE.COM  '], 'email', email],
    ['three phone formats', ['138 0013 8000', '+86-138-0013-8000', '0086 13800138000'], 'phone', phone],
  ])('%s link into one customer', async (_name, raw, kind, normalize) => {
    const records = raw.map((v, i) => mapped(`shop_pg/accounts/${i + 1}`, { keys: [[kind, normalize(v)]] }));
    expect(new Set(records.map((r) => r.identities[0]!.value)).size).toBe(1);
    const result = await apply(records);
    expect(result).toMatchObject({ customersCreated: 1, merged: 0, loaded: 3, unchanged: 0, failures: [] });
    expect(await partitionOf(db.pool)).toEqual([['shop_pg/accounts/1', 'shop_pg/accounts/2', 'shop_pg/accounts/3']]);
  });

  it('never links placeholder values (blocked), whatever the batch', async () => {
    const result = await apply([
      mapped('shop_pg/accounts/1', { keys: [['email', 'test@test.com'], ['phone', phone('13800000000')], ['shop_account', '1']] }),
      mapped('shop_pg/accounts/2', { keys: [['email', 'test@test.com'], ['phone', phone('13800000000')], ['shop_account', '2']] }),
    ]);
    expect(result.customersCreated).toBe(2);
    await apply([mapped('app_mongo/users/u3', { keys: [['email', 'test@test.com']] })]);
    expect(await partitionOf(db.pool)).toEqual([['app_mongo/users/u3'], ['shop_pg/accounts/1'], ['shop_pg/accounts/2']]);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM unified.customer_identity WHERE kind IN ('email', 'phone')`);
    expect(rows[0].n).toBe(0);
  });

  it('ignores kinds the rules do not declare', async () => {
    await apply([
      mapped('a/s/1', { keys: [['loyalty_card', 'X1']] }),
      mapped('a/s/2', { keys: [['loyalty_card', 'X1']] }),
    ]);
    expect(await partitionOf(db.pool)).toEqual([['a/s/1'], ['a/s/2']]);
  });
});

describe('cardinality cap (phone, cap 2: at most two named holders link)', () => {
  const family = phone('139 1111 2222');
  const member = (i: number) => mapped(`shop_pg/accounts/${i}`, { keys: [['email', `member${i}@family.cn`], ['phone', family]] });

  it('a family phone under the cap links', async () => {
    await apply([member(1), member(2)]);
    expect(await partitionOf(db.pool)).toEqual([['shop_pg/accounts/1', 'shop_pg/accounts/2']]);
  });

  it('a family phone over the cap links nobody, and is listed as capped', async () => {
    await apply([member(1), member(2), member(3)]);
    expect(await partitionOf(db.pool)).toEqual([['shop_pg/accounts/1'], ['shop_pg/accounts/2'], ['shop_pg/accounts/3']]);
    const capped = await db.pool.query('SELECT kind, value, holders, cap FROM unified.identity_capped');
    expect(capped.rows).toEqual([{ kind: 'phone', value: family, holders: 3, cap: 2 }]);
    const states = await db.pool.query(`SELECT DISTINCT state FROM unified.customer_identity WHERE kind = 'phone'`);
    expect(states.rows).toEqual([{ state: 'capped' }]);
  });

  it('crossing the cap in a later batch splits the customer the phone had linked', async () => {
    await apply([member(1), member(2)]);
    const before = await customerOf(db.pool, 'shop_pg/accounts/1');
    await apply([member(3)]);
    expect(await partitionOf(db.pool)).toEqual([['shop_pg/accounts/1'], ['shop_pg/accounts/2'], ['shop_pg/accounts/3']]);
    expect(await customerOf(db.pool, 'shop_pg/accounts/1')).toBe(before);
    const log = await db.pool.query(`SELECT action, absorbed_id, evidence FROM unified.merge_log`);
    expect(log.rows).toEqual([{ action: 'split', absorbed_id: String(before), evidence: { records: ['shop_pg/accounts/2'], path: [], capped: [`phone:${family}`] } }]);
  });

  it('a holder that crossed the cap letting go of the value (a corrected typo) counts it again: the rest link as a fresh load would', async () => {
    await apply([member(1), member(2)]);
    const family12 = await customerOf(db.pool, 'shop_pg/accounts/1');
    await apply([member(3)]); // one too many: capped, the family split
    expect(await partitionOf(db.pool)).toHaveLength(3);
    // Member 3's phone was a typo; fixed at the source, the record comes back with its own.
    await apply([mapped('shop_pg/accounts/3', { keys: [['email', 'member3@family.cn'], ['phone', phone('139 3333 4444')]] })]);
    const fresh = [['shop_pg/accounts/1', 'shop_pg/accounts/2'], ['shop_pg/accounts/3']];
    expect(await partitionOf(db.pool)).toEqual(fresh);
    expect(await customerOf(db.pool, 'shop_pg/accounts/1')).toBe(family12);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM unified.identity_capped')).rows).toEqual([{ n: 0 }]);
    const states = await db.pool.query(`SELECT customer_id, state FROM unified.customer_identity WHERE kind = 'phone' AND value = $1`, [family]);
    expect(states.rows).toEqual([{ customer_id: String(family12), state: 'link' }]);
    const log = await db.pool.query(`SELECT action, customer_id, evidence->'path' AS path FROM unified.merge_log WHERE action = 'merge'`);
    expect(log.rows).toEqual([{ action: 'merge', customer_id: String(family12), path: [expect.objectContaining({ key: `phone:${family}` })] }]);
    // The same final records loaded fresh give the same customers.
    await db.reset();
    await apply([member(1), member(2), mapped('shop_pg/accounts/3', { keys: [['email', 'member3@family.cn'], ['phone', phone('139 3333 4444')]] })]);
    expect(await partitionOf(db.pool)).toEqual(fresh);
  });

  it('counting a value again sees a holder another worker split off meanwhile (its rows stay one state)', async () => {
    const cap1 = testRules({ phoneCap: 1 });
    const K = phone('139 5555 6666');
    const r1 = (keys: [string, string][]) => mapped('crm_oracle/customers/r1', { target: 'crm_profile', keys });
    await apply([
      mapped('shop_pg/accounts/m1', { keys: [['email', 'm1@x.cn'], ['phone', K]] }),
      mapped('shop_pg/accounts/m3', { keys: [['email', 'm3@x.cn'], ['phone', K]] }),
      r1([['email', 'e1@x.cn'], ['crm_id', '7']]),
      mapped('shop_pg/accounts/r2', { keys: [['crm_id', '7'], ['email', 'e2@x.cn'], ['phone', K]] }),
    ], cap1);
    // Worker 2 splits r1 from r2 (their customer held K through r2) and has not committed yet.
    const w2 = await db.pool.connect();
    try {
      await w2.query('BEGIN');
      await applyBatch(w2, [r1([['email', 'e1@x.cn']])], cap1);
      // Worker 1 drops K from m3: it reads K's holders, then waits for worker 2's row locks.
      const w1 = inTx(db.pool, (tx) => applyBatch(tx, [mapped('shop_pg/accounts/m3', { keys: [['email', 'm3@x.cn']] })], cap1));
      for (let i = 0; ; i++) {
        const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        if (rows[0].n > 0) break;
        if (i > 500) throw new Error('worker 1 never waited for worker 2');
        await new Promise((r) => setTimeout(r, 10));
      }
      await w2.query('COMMIT');
      await w1;
    } finally {
      w2.release();
    }
    // m1 and r2 (two people by email) still hold K: over a cap of 1, capped on every row.
    const states = await db.pool.query(`SELECT DISTINCT state FROM unified.customer_identity WHERE kind = 'phone' AND value = $1`, [K]);
    expect(states.rows).toEqual([{ state: 'capped' }]);
    expect((await db.pool.query('SELECT value FROM unified.identity_capped')).rows).toEqual([{ value: K }]);
    expect(await partitionOf(db.pool)).toEqual([['crm_oracle/customers/r1'], ['shop_pg/accounts/m1'], ['shop_pg/accounts/m3'], ['shop_pg/accounts/r2']]);
  });

  it('a value still over the cap after a holder lets go of it stays capped', async () => {
    await apply([member(1), member(2), member(3), member(4)]);
    await apply([mapped('shop_pg/accounts/4', { keys: [['email', 'member4@family.cn']] })]);
    expect(await partitionOf(db.pool)).toEqual([['shop_pg/accounts/1'], ['shop_pg/accounts/2'], ['shop_pg/accounts/3'], ['shop_pg/accounts/4']]);
    const capped = await db.pool.query('SELECT kind, value FROM unified.identity_capped');
    expect(capped.rows).toEqual([{ kind: 'phone', value: family }]);
    const states = await db.pool.query(`SELECT DISTINCT state FROM unified.customer_identity WHERE kind = 'phone' AND value = $1`, [family]);
    expect(states.rows).toEqual([{ state: 'capped' }]);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM unified.merge_log`)).rows).toEqual([{ n: 0 }]);
  });

  it('holders of a capped value found to be one person count once: the value links again as a fresh load would', async () => {
    await apply([member(1), member(2), member(3)]); // three holders over a cap of 2: capped
    const m3 = await customerOf(db.pool, 'shop_pg/accounts/3');
    // A CRM record holds members 1 and 2's emails: they were one person with two accounts.
    const crm = mapped('crm_oracle/customers/C7', { target: 'crm_profile', keys: [['crm_id', 'C7'], ['email', 'member1@family.cn'], ['email', 'member2@family.cn']] });
    await apply([crm]);
    const all = [['crm_oracle/customers/C7', 'shop_pg/accounts/1', 'shop_pg/accounts/2', 'shop_pg/accounts/3']];
    expect(await partitionOf(db.pool)).toEqual(all);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM unified.identity_capped')).rows).toEqual([{ n: 0 }]);
    const states = await db.pool.query(`SELECT DISTINCT state FROM unified.customer_identity WHERE kind = 'phone' AND value = $1`, [family]);
    expect(states.rows).toEqual([{ state: 'link' }]);
    // Member 3 joined by the phone: logged with the phone as evidence.
    const log = await db.pool.query(`SELECT evidence->'path' AS path FROM unified.merge_log WHERE action = 'merge' AND absorbed_id = $1`, [m3]);
    expect(log.rows).toEqual([{ path: expect.arrayContaining([expect.objectContaining({ key: `phone:${family}` })]) }]);
    // The same records loaded fresh, in one batch: the same customers.
    await db.reset();
    await apply([member(1), member(2), member(3), crm]);
    expect(await partitionOf(db.pool)).toEqual(all);
  });

  it('holders found to be one person but still over the cap keep it capped', async () => {
    await apply([member(1), member(2), member(3), member(4)]);
    await apply([mapped('crm_oracle/customers/C7', { target: 'crm_profile', keys: [['crm_id', 'C7'], ['email', 'member1@family.cn'], ['email', 'member2@family.cn']] })]);
    expect(await partitionOf(db.pool)).toEqual([
      ['crm_oracle/customers/C7', 'shop_pg/accounts/1', 'shop_pg/accounts/2'], ['shop_pg/accounts/3'], ['shop_pg/accounts/4'],
    ]);
    expect((await db.pool.query('SELECT value FROM unified.identity_capped')).rows).toEqual([{ value: family }]);
    const states = await db.pool.query(`SELECT DISTINCT state FROM unified.customer_identity WHERE kind = 'phone' AND value = $1`, [family]);
    expect(states.rows).toEqual([{ state: 'capped' }]);
  });

  it.each([
    ['one person whose app account and CRM record share it is one holder', 1, false, 1],
    ['a second person (own email) sharing it makes two holders', 1, true, 3],
    ['two holders stay under a cap of 2', 2, true, 1],
  ])('counting holders: %s', async (_what, cap, withSister, customers) => {
    const records = [
      mapped('crm_oracle/customers/C1', { target: 'crm_profile', keys: [['crm_id', 'C1'], ['email', 'me@x.cn'], ['phone', family]] }),
      mapped('app_mongo/users/u1', { keys: [['app_user', 'u1'], ['phone', family]] }),
      ...(withSister ? [mapped('shop_pg/accounts/9', { keys: [['shop_account', '9'], ['email', 'sister@x.cn'], ['phone', family]] })] : []),
    ];
    await apply(records, testRules({ phoneCap: cap }));
    expect(await partitionOf(db.pool)).toHaveLength(customers);
  });

  it('with cardinality_by: [email], two CRM ids without email (entered twice) count as one holder', async () => {
    const byEmail = testRules({ phoneCap: 1 });
    const rules1 = { ...byEmail, kinds: new Map([...byEmail.kinds].map(([k, r]) => [k, k === 'phone' ? { ...r, countBy: ['email'] } : r])) };
    const twice = [1, 2].map((i) => mapped(`crm_oracle/customers/C${i}`, { target: 'crm_profile', keys: [['crm_id', `C${i}`], ['phone', family]] }));
    await apply(twice, rules1);
    expect(await partitionOf(db.pool)).toHaveLength(1);
    await apply(twice, testRules({ phoneCap: 1 })); // unchanged: nothing re-resolved
    await db.reset();
    await apply(twice, testRules({ phoneCap: 1 }));
    expect(await partitionOf(db.pool)).toHaveLength(2); // counted by every kind: two crm ids, two holders
  });

  it('records known only by the phone (orders) are not counted as holders', async () => {
    const orders = [1, 2, 3, 4].map((i) => mapped(`orders_soap/orders/O${i}`, { target: 'order', keys: [['phone', family]] }));
    await apply([member(1), ...orders]);
    expect(await partitionOf(db.pool)).toHaveLength(1);
  });
});

describe('merging', () => {
  const A = mapped('crm_oracle/customers/C1', { target: 'crm_profile', keys: [['crm_id', 'C1'], ['email', 'a@x.cn']] });
  const B = mapped('shop_pg/accounts/7', { keys: [['email', 'a@x.cn'], ['phone', '+8613911112222']] });
  const C = mapped('app_mongo/users/u9', { fields: { nickname: 'nine' }, keys: [['phone', '+8613911112222']] });

  it('a chain A–B–C in one batch is one customer, created once, nothing merged', async () => {
    expect(await apply([A, B, C])).toMatchObject({ customersCreated: 1, merged: 0 });
    expect(await partitionOf(db.pool)).toHaveLength(1);
    expect((await db.pool.query('SELECT * FROM unified.merge_log')).rows).toEqual([]);
  });

  it('a chain A–B–C across batches merges A and C through B, with the chain of keys as evidence', async () => {
    await apply([A]);
    await apply([C]);
    const [a, c] = [await customerOf(db.pool, A.source + '/customers/C1'), await customerOf(db.pool, 'app_mongo/users/u9')];
    expect(await apply([B])).toMatchObject({ customersCreated: 0, merged: 1 });
    expect(await partitionOf(db.pool)).toHaveLength(1);
    expect(await customerOf(db.pool, 'shop_pg/accounts/7')).toBe(Math.min(a, c));
    const log = await db.pool.query('SELECT action, customer_id, absorbed_id, evidence FROM unified.merge_log');
    expect(log.rows).toEqual([
      {
        action: 'merge',
        customer_id: String(a),
        absorbed_id: String(c),
        evidence: {
          records: ['app_mongo/users/u9'],
          path: [
            { from: 'app_mongo/users/u9', to: 'shop_pg/accounts/7', key: 'phone:+8613911112222' },
            { from: 'shop_pg/accounts/7', to: 'crm_oracle/customers/C1', key: 'email:a@x.cn' },
          ],
        },
      },
    ]);
    // The tombstone keeps no copy of the person: its golden values, lineage and anchors are gone.
    const absorbed = await db.pool.query('SELECT merged_into, nickname, lineage, anchors FROM unified.customer WHERE id = $1', [c]);
    expect(absorbed.rows).toEqual([{ merged_into: String(a), nickname: null, lineage: {}, anchors: 0 }]);
    const survivor = await db.pool.query('SELECT nickname FROM unified.customer WHERE id = $1', [a]);
    expect(survivor.rows).toEqual([{ nickname: 'nine' }]);
    const identities = await db.pool.query('SELECT DISTINCT customer_id FROM unified.customer_identity');
    expect(identities.rows).toEqual([{ customer_id: String(a) }]);
  });

  it('a record re-keyed from one customer to another moves alone: both keep their ids, nobody is logged as merged', async () => {
    // X has two records, one each side of the tie once its second record changes keys.
    const x1 = mapped('shop_pg/accounts/9', { keys: [['email', 'x@x.cn']] });
    const x2 = (keys: [string, string][]) => mapped('app_mongo/users/x2', { keys });
    const y1 = mapped('shop_pg/accounts/5', { keys: [['phone', '+8613922223333']] });
    await apply([x1, x2([['email', 'x@x.cn'], ['phone', '+8613911110000']])]);
    await apply([y1]);
    const [x, y] = [await customerOf(db.pool, 'shop_pg/accounts/9'), await customerOf(db.pool, 'shop_pg/accounts/5')];
    expect(x).toBeLessThan(y);

    expect(await apply([x2([['phone', '+8613922223333']])])).toMatchObject({ customersCreated: 0, merged: 0 });
    expect(await customerOf(db.pool, 'shop_pg/accounts/9')).toBe(x);
    expect(await customerOf(db.pool, 'app_mongo/users/x2')).toBe(y);
    expect(await customerOf(db.pool, 'shop_pg/accounts/5')).toBe(y);
    const log = await db.pool.query('SELECT action, customer_id, absorbed_id FROM unified.merge_log ORDER BY id');
    expect(log.rows).toEqual([{ action: 'split', customer_id: String(y), absorbed_id: String(x) }]);
    const live = await db.pool.query('SELECT id FROM unified.customer WHERE merged_into IS NULL ORDER BY id');
    expect(live.rows).toEqual([{ id: String(x) }, { id: String(y) }]);
  });

  it('a customer whose records all move to two others: both others keep their ids, it is merged away', async () => {
    const x = (i: number, keys: [string, string][]) => mapped(`app_mongo/users/x${i}`, { keys });
    const y1 = mapped('shop_pg/accounts/5', { keys: [['phone', '+8613922223333']] });
    const z1 = mapped('shop_pg/accounts/6', { keys: [['phone', '+8613944445555']] });
    await apply([x(1, [['email', 'x@x.cn']]), x(2, [['email', 'x@x.cn']])]);
    await apply([y1]);
    await apply([z1]);
    const [xId, y, z] = [await customerOf(db.pool, 'app_mongo/users/x1'), await customerOf(db.pool, 'shop_pg/accounts/5'), await customerOf(db.pool, 'shop_pg/accounts/6')];
    expect(xId).toBeLessThan(y);

    expect(await apply([x(1, [['phone', '+8613922223333']]), x(2, [['phone', '+8613944445555']])])).toMatchObject({ customersCreated: 0, merged: 1 });
    expect([await customerOf(db.pool, 'app_mongo/users/x1'), await customerOf(db.pool, 'shop_pg/accounts/5')]).toEqual([y, y]);
    expect([await customerOf(db.pool, 'app_mongo/users/x2'), await customerOf(db.pool, 'shop_pg/accounts/6')]).toEqual([z, z]);
    const gone = await db.pool.query('SELECT merged_into FROM unified.customer WHERE id = $1', [xId]);
    expect(gone.rows).toEqual([{ merged_into: String(y) }]);
  });

  it('a customer that keeps most of its records keeps its id when a whole customer joins it and one record leaves', async () => {
    const x = (i: number, keys: [string, string][]) => mapped(`app_mongo/users/x${i}`, { keys });
    await apply([x(1, [['email', 'x@x.cn']]), x(2, [['email', 'x@x.cn']]), x(3, [['email', 'x@x.cn'], ['phone', '+8613911110000']]), x(4, [['phone', '+8613911110000']])]);
    await apply([mapped('shop_pg/accounts/5', { keys: [['email', 'w@x.cn']] })]);
    const [xId, w] = [await customerOf(db.pool, 'app_mongo/users/x1'), await customerOf(db.pool, 'shop_pg/accounts/5')];
    expect(xId).toBeLessThan(w);

    // x3 drops the phone that held x4 and takes W's email: 3 of X's 4 records meet W.
    expect(await apply([x(3, [['email', 'x@x.cn'], ['email', 'w@x.cn']])])).toMatchObject({ customersCreated: 1, merged: 1 });
    for (const ref of ['app_mongo/users/x1', 'app_mongo/users/x3', 'shop_pg/accounts/5']) expect(await customerOf(db.pool, ref), ref).toBe(xId);
    expect(await customerOf(db.pool, 'app_mongo/users/x4')).not.toBe(xId);
    const gone = await db.pool.query('SELECT merged_into FROM unified.customer WHERE id = $1', [w]);
    expect(gone.rows).toEqual([{ merged_into: String(xId) }]);
  });

  it('orders and tickets follow their customer through a merge', async () => {
    await apply([A, mapped('orders_soap/orders/O1', { target: 'order', fields: { order_no: 'O1' }, keys: [['crm_id', 'C1']] })]);
    await apply([C, mapped('tickets_php/tickets/9', { target: 'ticket', fields: { ticket_no: '9' }, keys: [['phone', '+8613911112222']] })]);
    await apply([B]);
    const { rows } = await db.pool.query(`SELECT (SELECT array_agg(DISTINCT customer_id) FROM unified."order") AS o,
      (SELECT array_agg(DISTINCT customer_id) FROM unified.ticket) AS t, (SELECT array_agg(DISTINCT customer_id) FROM unified.crm_profile) AS p`);
    expect(rows[0].o).toEqual(rows[0].t);
    expect(rows[0].o).toEqual(rows[0].p);
  });
});
