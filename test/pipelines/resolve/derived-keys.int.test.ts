/**
 * Derived kinds against a real PostgreSQL (scratch database): a family phone over its cap
 * stops linking, and the same phone with a person's name (`phone_name`) still joins that
 * person's records — as long as the name itself is not shared by several holders.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyBatch } from '../../../pipelines/load/apply-batch.js';
import { normalizePhone } from '../../../pipelines/normalize.js';
import { resolveRules } from '../../../pipelines/resolve/rules.js';
import { explainCustomer } from '../../../pipelines/unified/explain.js';
import { customerOf, inTx, mapped, partitionOf, scratchDatabase, type ScratchDb } from '../../helpers/unified.js';

let db: ScratchDb;
const family = normalizePhone('139 1111 2222', 'CN')!;

/** The demo's phone rules: cap 1, holders told apart by email; phone_name derived from name and nickname. */
const rules = (derive = true) =>
  resolveRules({
    identity: {
      default_region: 'CN',
      kinds: {
        shop_account: { priority: 90, normalize: 'none', blocked: [] },
        app_user: { priority: 90, normalize: 'none', blocked: [] },
        email: { priority: 50, normalize: 'email', blocked: [] },
        phone: { priority: 40, normalize: 'phone', blocked: [], cardinality_cap: 1, cardinality_by: ['email'] },
        ...(derive
          ? { phone_name: { priority: 35, normalize: 'none' as const, blocked: [], cardinality_cap: 1, cardinality_by: ['email'], derive: { kind: 'phone', fields: ['name', 'nickname'] } } }
          : {}),
      },
    },
  });

const account = (id: number, name: string | null, email?: string) =>
  mapped(`shop_pg/accounts/${id}`, {
    fields: name === null ? {} : { name },
    keys: [['shop_account', String(id)], ['phone', family], ...(email ? [['email', email] as [string, string]] : [])],
  });
const appUser = (id: string, nickname: string, email?: string) =>
  mapped(`app_mongo/users/${id}`, { fields: { nickname }, keys: [['app_user', id], ['phone', family], ...(email ? [['email', email] as [string, string]] : [])] });
const order = (no: string) => mapped(`orders_soap/orders/${no}`, { target: 'order', keys: [['phone', family]] });

beforeAll(async () => {
  db = await scratchDatabase('derived_keys');
});
afterAll(async () => {
  await db?.close();
});
beforeEach(async () => {
  await db.reset();
});

const apply = (records: Parameters<typeof applyBatch>[1], r = rules()) => inTx(db.pool, (tx) => applyBatch(tx, records, r));

describe('phone_name: a capped family phone qualified by a name', () => {
  // Father 王平 (shop account with email, another without), daughter 王娜 (own email).
  const father = account(1, '王平', 'ping@family.cn');
  const fatherAgain = account(2, '王 平');
  const daughter = appUser('u1', '王娜🌸', 'na@family.cn');

  it.each([
    ['without phone_name, the capped phone leaves the second account alone', false, [father, fatherAgain, daughter],
      [['app_mongo/users/u1'], ['shop_pg/accounts/1'], ['shop_pg/accounts/2']]],
    ['with phone_name, the account carrying the father\'s name joins him', true, [father, fatherAgain, daughter],
      [['app_mongo/users/u1'], ['shop_pg/accounts/1', 'shop_pg/accounts/2']]],
    ['a nickname equal to the name joins too', true, [father, daughter, appUser('u2', '王娜2024')],
      [['app_mongo/users/u1', 'app_mongo/users/u2'], ['shop_pg/accounts/1']]],
    ['a record without a name (an order) stays apart', true, [father, fatherAgain, daughter, order('O1')],
      [['app_mongo/users/u1'], ['orders_soap/orders/O1'], ['shop_pg/accounts/1', 'shop_pg/accounts/2']]],
    ['a name held by two people (own emails) links nobody', true, [father, daughter, account(3, '王平', 'other.ping@family.cn'), fatherAgain],
      [['app_mongo/users/u1'], ['shop_pg/accounts/1'], ['shop_pg/accounts/2'], ['shop_pg/accounts/3']]],
    ['a name written in another script does not match', true, [father, daughter, account(4, 'Wang Ping')],
      [['app_mongo/users/u1'], ['shop_pg/accounts/1'], ['shop_pg/accounts/4']]],
    ['under the cap the phone links everything, names or not', true, [father, fatherAgain, order('O1')],
      [['orders_soap/orders/O1', 'shop_pg/accounts/1', 'shop_pg/accounts/2']]],
  ] as const)('%s', async (_what, derive, records, expected) => {
    await apply([...records], rules(derive));
    expect(await partitionOf(db.pool)).toEqual(expected);
  });

  it('is the same whether the records come in one batch or one by one, and explains the join by the derived key', async () => {
    for (const r of [fatherAgain, daughter, father]) await apply([r]);
    expect(await partitionOf(db.pool)).toEqual([['app_mongo/users/u1'], ['shop_pg/accounts/1', 'shop_pg/accounts/2']]);
    const id = await customerOf(db.pool, 'shop_pg/accounts/1');
    const why = await explainCustomer(db.pool, id, rules());
    expect(why.chain.map((c) => c.via?.key ?? null)).toEqual([null, `phone_name:${family}|王平`]);
    const states = await db.pool.query(`SELECT kind, state, count(*)::int AS n FROM unified.customer_identity WHERE kind LIKE 'phone%' GROUP BY 1, 2 ORDER BY 1, 2`);
    expect(states.rows).toEqual([
      { kind: 'phone', state: 'capped', n: 2 },
      { kind: 'phone_name', state: 'link', n: 2 },
    ]);
  });
});
