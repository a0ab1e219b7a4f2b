/**
 * `junction customers show | explain | unmerge | evaluate`, run as a user would, against a
 * scratch database (JUNCTION_PG_URL), a scratch ClickHouse database
 * (JUNCTION_CLICKHOUSE_DATABASE) and a small inline config.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBatch } from '../../../pipelines/load/apply-batch.js';
import { sendPending } from '../../../pipelines/sinks/clickhouse-outbox.js';
import { applyAndSend, scratchClickhouse, type ScratchClickhouse } from '../../helpers/clickhouse.js';
import { runCli } from '../../helpers/cli.js';
import { customerOf, inTx, mapped, scratchDatabase, testRules, type ScratchDb } from '../../helpers/unified.js';

let db: ScratchDb;
let ch: ScratchClickhouse;
let dir: string;
let env: NodeJS.ProcessEnv;
const rules = testRules({ phoneCap: 2 });

const CONFIG = `
version: 1
sources: {}
identity:
  default_region: CN
  kinds:
    crm_id: { priority: 100 }
    shop_account: { priority: 90 }
    email: { priority: 50, normalize: email, blocked: [test@test.com] }
    phone: { priority: 40, normalize: phone, blocked: ["13800000000"], cardinality_cap: 2 }
`;

const A = mapped('crm_oracle/customers/C1', { target: 'crm_profile', fields: { name: '张伟', crm_id: 'C1' }, keys: [['crm_id', 'C1'], ['email', 'zw@x.cn']], lines: { name: 14 } });
const B = mapped('shop_pg/accounts/7', { fields: { city: '杭州' }, keys: [['email', 'zw@x.cn'], ['phone', '+8613911112222']] });
const C = mapped('app_mongo/users/u9', { fields: { nickname: 'wei' }, keys: [['phone', '+8613911112222']] });
let survivor = 0;
let absorbed = 0;

beforeAll(async () => {
  db = await scratchDatabase('customers_cli');
  ch = await scratchClickhouse('customers_cli');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-customers-'));
  fs.writeFileSync(path.join(dir, 'junction.yaml'), CONFIG);
  env = { JUNCTION_PG_URL: db.url, JUNCTION_CLICKHOUSE_DATABASE: ch.database };
  await inTx(db.pool, (tx) => applyBatch(tx, [A], rules));
  await inTx(db.pool, (tx) => applyBatch(tx, [C], rules));
  absorbed = await customerOf(db.pool, 'app_mongo/users/u9');
  await inTx(db.pool, (tx) => applyBatch(tx, [B], rules));
  survivor = await customerOf(db.pool, 'app_mongo/users/u9');
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await db?.close();
  await ch?.close();
});

const cli = (...args: string[]) => runCli(['customers', ...args, ...(args[0] === 'evaluate' ? [] : ['-c', path.join(dir, 'junction.yaml')])], env);

describe('junction customers show', () => {
  it.each([
    ['an email in another case', ' ZW@X.CN '],
    ['a phone in another format', '139-1111-2222'],
    ['a phone written as digits alone', '13911112222'],
    ['the id of the absorbed customer', 'ABSORBED'],
    ['a source record', 'shop_pg/accounts/7'],
  ])('finds the customer by %s and prints lineage, identities and records', async (_what, query) => {
    const r = await cli('show', query === 'ABSORBED' ? String(absorbed) : query);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`customer ${survivor} (absorbed ${absorbed})`);
    expect(r.stdout).toMatch(/name\s+张伟 {2}← crm_oracle\/customers\/C1 mappings\/crm_oracle\.customers\.yaml:14, synced .* \(most_recent\)/);
    expect(r.stdout).toMatch(/phone\s+\+8613911112222\s+link/);
    expect(r.stdout).toContain('app_mongo/users/u9');
    expect(r.stdout).toContain(`customer ${absorbed} merged into ${survivor}: app_mongo/users/u9 —phone +8613911112222— shop_pg/accounts/7`);
  });

  it('prints JSON and reports an unknown customer with ID_NOT_FOUND', async () => {
    const r = await cli('show', 'zw@x.cn', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ customers: [{ id: survivor, fields: { name: '张伟', city: '杭州', nickname: 'wei' }, lineage: { city: { source: 'shop_pg' } } }] });
    const missing = await cli('show', 'nobody@x.cn');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('[ID_NOT_FOUND]');
  });
});

describe('junction customers show: custom attributes', () => {
  const ATTRIBUTES = {
    points: { type: 'integer' },
    newsletter: { type: 'boolean' },
    prefs: { type: 'json' },
    last_seen: { type: 'datetime' },
    anniversary: { type: 'date' },
    balance: { type: 'decimal' },
  } as const;
  let id = 0;

  beforeAll(async () => {
    const withAttributes = testRules({ phoneCap: 2, attributes: ATTRIBUTES });
    const fields = { points: 120, newsletter: false, prefs: { lang: 'zh' }, last_seen: '2025-01-02T11:04:05+08:00', anniversary: '2025-01-02', balance: '12.50' };
    await inTx(db.pool, (tx) => applyBatch(tx, [mapped('shop_pg/accounts/attrs', { fields, keys: [['shop_account', 'attrs']] })], withAttributes));
    id = await customerOf(db.pool, 'shop_pg/accounts/attrs');
  });

  const values = (out: string) =>
    Object.fromEntries((JSON.parse(out) as { customers: { attributes: { name: string; value: unknown }[] }[] }).customers[0]!.attributes.map((a) => [a.name, a.value]));

  // The session's TimeZone (the server's default, or one the connection sets) must not change what is shown.
  it.each([
    ['the server’s session TimeZone', null],
    ['a session TimeZone of Asia/Shanghai', '-c TimeZone=Asia/Shanghai'],
  ])('gives each value as JSON of its declared type under %s', async (_what, options) => {
    const url = new URL(db.url);
    if (options) url.searchParams.set('options', options);
    const r = await runCli(['customers', 'show', String(id), '--json', '-c', path.join(dir, 'junction.yaml')], { ...env, JUNCTION_PG_URL: url.href });
    expect(r.code, r.stderr).toBe(0);
    expect(values(r.stdout)).toStrictEqual({
      anniversary: '2025-01-02',
      balance: '12.50',
      last_seen: '2025-01-02T03:04:05.000Z',
      newsletter: false,
      points: 120,
      prefs: { lang: 'zh' },
    });
  });

  it('gives an integer past 2^53 as its exact text, which a number would round', async () => {
    await db.pool.query(
      `INSERT INTO unified.customer_attribute (customer_id, name, type, value_integer, lineage) VALUES ($1, 'big', 'integer', 9007199254740993, '{}'), ($1, 'low', 'integer', -9223372036854775808, '{}')`,
      [id],
    );
    try {
      const r = await cli('show', String(id), '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(values(r.stdout)).toMatchObject({ big: '9007199254740993', low: '-9223372036854775808', points: 120 });
    } finally {
      await db.pool.query(`DELETE FROM unified.customer_attribute WHERE customer_id = $1 AND name IN ('big', 'low')`, [id]);
    }
  });

  it('prints them as text', async () => {
    const r = await cli('show', String(id));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/points\s+120 {2}← shop_pg\/accounts\/attrs/);
    expect(r.stdout).toMatch(/newsletter\s+false {2}←/);
    expect(r.stdout).toMatch(/prefs\s+\{"lang":"zh"\} {2}←/);
    expect(r.stdout).toMatch(/last_seen\s+2025-01-02T03:04:05\.000Z {2}←/);
  });
});

describe('junction customers explain', () => {
  it('shows the chain of keys that joins the records', async () => {
    const r = await cli('explain', String(survivor));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/crm_oracle\/customers\/C1\s+← email zw@x\.cn\s+from shop_pg\/accounts\/7/);
    expect(r.stdout).toMatch(/shop_pg\/accounts\/7\s+← phone \+8613911112222\s+from app_mongo\/users\/u9/);
    const json = JSON.parse((await cli('explain', String(survivor), '--json')).stdout);
    expect(json.shared).toEqual([
      { key: 'email:zw@x.cn', state: 'link', records: ['crm_oracle/customers/C1', 'shop_pg/accounts/7'] },
      { key: 'phone:+8613911112222', state: 'link', records: ['app_mongo/users/u9', 'shop_pg/accounts/7'] },
    ]);
  });
});

describe('junction customers explain <id>: the id, never a phone the digits also spell', () => {
  let holder = 0;
  beforeAll(async () => {
    // +861010005 and +861010006: valid CN phones the digits 1010005 and 1010006 also read as.
    await inTx(db.pool, (tx) =>
      applyBatch(tx, [
        mapped('shop_pg/accounts/p5', { keys: [['shop_account', 'p5'], ['phone', '+861010005']] }),
        mapped('shop_pg/accounts/p6', { keys: [['shop_account', 'p6'], ['phone', '+861010006']] }),
      ], rules),
    );
    holder = await customerOf(db.pool, 'shop_pg/accounts/p6');
    // The next customer is 1010006, above the phones' holders.
    await db.pool.query(`SELECT setval(pg_get_serial_sequence('unified.customer', 'id'), 1010005)`);
    await inTx(db.pool, (tx) => applyBatch(tx, [mapped('shop_pg/accounts/id6', { keys: [['shop_account', 'id6']] })], rules));
  });

  it('refuses an id no customer has with ID_NOT_FOUND, though a customer holds the phone', async () => {
    const r = await cli('explain', '1010005');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no customer 1010005 [ID_NOT_FOUND]');
    expect(r.stdout).toBe('');
  });

  it('explains the customer of that id, not a lower-numbered holder of the phone', async () => {
    expect(await customerOf(db.pool, 'shop_pg/accounts/id6')).toBe(1010006);
    expect(holder).toBeLessThan(1010006);
    const r = await cli('explain', '1010006', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 1010006, chain: [{ record: 'shop_pg/accounts/id6', via: null }] });
  });
});

describe('junction customers unmerge', () => {
  it('moves the record to a new pinned customer', async () => {
    await inTx(db.pool, (tx) =>
      applyBatch(tx, [
        mapped('crm_oracle/customers/C5', { target: 'crm_profile', keys: [['crm_id', 'C5'], ['email', 'x@x.cn']] }),
        mapped('shop_pg/accounts/55', { keys: [['shop_account', '55'], ['email', 'x@x.cn']] }),
      ], rules),
    );
    const id = await customerOf(db.pool, 'shop_pg/accounts/55');
    const r = await cli('unmerge', String(id), '--source-record', 'shop_pg/accounts/55', '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ from: id, moved: ['shop_pg/accounts/55'] });
    const shown = await cli('show', 'shop_pg/accounts/55');
    expect(shown.stdout).toContain(`customer ${result.to}`);
    expect(shown.stdout).toMatch(/shop_pg\/accounts\/55\s+customer\s+synced \S+ {2}pinned/);
    const refused = await cli('unmerge', String(id), '--source-record', 'shop_pg/accounts/55');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[ID_UNMERGE_REFUSED]');
  });
});

describe('junction customers unmerge and ClickHouse', () => {
  const order = (key: string, phone: string) =>
    mapped(`orders_soap/orders/${key}`, {
      target: 'order',
      fields: { order_no: key, status: 'paid', total_amount: '12.50', currency: 'CNY', lines: [], ordered_at: '2025-03-31T17:30:00.000Z' },
      keys: [['phone', phone]],
    });
  const outbox = async () => (await db.pool.query<{ source: string; stream: string }>('SELECT source, stream FROM hub.clickhouse_outbox ORDER BY id')).rows;
  const chState = async (keys: string[], customers: number[]) => ({
    orders: await ch.rows(`SELECT source_key, toUInt64(customer_id) AS customer_id FROM orders_current WHERE source_key IN (${keys.map((k) => `'${k}'`).join(', ')}) ORDER BY source_key`),
    customers: await ch.rows(`SELECT customer_id, record_count FROM customers_current WHERE customer_id IN (${customers.join(', ')}) ORDER BY customer_id`),
  });

  /** A shop account and two orders on its phone, sent to ClickHouse as a sync batch does; the customer's id. */
  async function customerWithOrders(account: string, keys: string[]): Promise<number> {
    const phone = `+86139777788${account}`;
    await applyAndSend(db.pool, ch.client, [mapped(`shop_pg/accounts/${account}`, { keys: [['shop_account', account], ['phone', phone]] }), ...keys.map((k) => order(k, phone))], rules);
    return customerOf(db.pool, `orders_soap/orders/${keys[0]}`);
  }

  it('sends both customers and their orders to ClickHouse after COMMIT', async () => {
    const id = await customerWithOrders('81', ['UO1', 'UO2']);
    expect((await chState(['UO1', 'UO2'], [id])).orders).toEqual([{ source_key: 'UO1', customer_id: String(id) }, { source_key: 'UO2', customer_id: String(id) }]);

    const r = await cli('unmerge', String(id), '--source-record', 'orders_soap/orders/UO1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ from: id, moved: ['orders_soap/orders/UO1'] });
    expect(await chState(['UO1', 'UO2'], [id, result.to])).toEqual({
      orders: [{ source_key: 'UO1', customer_id: String(result.to) }, { source_key: 'UO2', customer_id: String(id) }],
      customers: [{ customer_id: String(id), record_count: 2 }, { customer_id: String(result.to), record_count: 1 }],
    });
    expect(result.analytics).toEqual({ sent: true });
    expect(await outbox()).toEqual([]);
  });

  it('with ClickHouse down, still unmerges and leaves the rows to the record’s stream, whose next run sends them', async () => {
    const id = await customerWithOrders('82', ['UO3', 'UO4']);
    // Port 9 (discard) on loopback: nothing listens there.
    const down = await runCli(['customers', 'unmerge', String(id), '--source-record', 'orders_soap/orders/UO4', '--json', '-c', path.join(dir, 'junction.yaml')], {
      ...env,
      JUNCTION_CLICKHOUSE_URL: 'http://127.0.0.1:9',
    });
    expect(down.code, down.stderr).toBe(0);
    const result = JSON.parse(down.stdout);
    expect(result).toMatchObject({ from: id, moved: ['orders_soap/orders/UO4'] });
    expect(await customerOf(db.pool, 'orders_soap/orders/UO4')).toBe(result.to);
    expect(await outbox()).toEqual([{ source: 'orders_soap', stream: 'orders' }]);
    expect((await chState(['UO4'], [result.to])).customers).toEqual([]);
    expect(result.analytics).toMatchObject({ sent: false, pending: 'orders_soap.orders', error: { code: 'SYNC_CLICKHOUSE_FAILED' } });
    expect(down.stderr).toContain('the next sync of orders_soap.orders sends it');

    // What orders_soap.orders' next run does first.
    expect(await sendPending(db.pool, ch.client, 'orders_soap', 'orders')).toBe(1);
    expect(await chState(['UO4'], [result.to])).toEqual({
      orders: [{ source_key: 'UO4', customer_id: String(result.to) }],
      customers: [{ customer_id: String(result.to), record_count: 1 }],
    });
    expect(await outbox()).toEqual([]);
  });
});

describe('customer ids as typed: decimal text, checked against bigint', () => {
  it.each([
    ['show', []],
    ['explain', []],
    ['unmerge', ['--source-record', 'shop_pg/accounts/7']],
  ])('%s refuses an id past the largest bigint with ID_BAD_ID (not a raw PostgreSQL error)', async (command, more) => {
    const r = await cli(command, '99999999999999999999', ...more);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/customer id 99999999999999999999 is out of range: ids are PostgreSQL bigints, at most 9223372036854775807 \[ID_BAD_ID\]/);
    expect(r.stderr).not.toContain('out of range for type bigint');
  });

  it('looks up an id past 2^53 exactly instead of rounding it to another customer', async () => {
    // 2^53: the id 2^53 + 1 rounds to as a JavaScript number.
    await db.pool.query(`INSERT INTO unified.customer (id, name) VALUES (9007199254740992, 'Rounded')`);
    try {
      const next = await cli('show', '9007199254740993');
      expect(next.code, next.stdout).toBe(1);
      expect(next.stderr).toContain('[ID_NOT_FOUND]');
      const exact = await cli('show', '9007199254740992', '--json');
      expect(exact.code, exact.stderr).toBe(0);
      expect(JSON.parse(exact.stdout)).toMatchObject({ customers: [{ id: '9007199254740992', fields: { name: 'Rounded' } }] });
      const why = await cli('explain', '9007199254740993');
      expect(why.stderr).toContain('[ID_NOT_FOUND]');
      const unmerge = await cli('unmerge', '9007199254740993', '--source-record', 'shop_pg/accounts/7');
      expect(unmerge.stderr).toMatch(/past 9007199254740991, the largest id unmerge handles exactly \[ID_BAD_ID\]/);
    } finally {
      await db.pool.query('DELETE FROM unified.customer WHERE id = 9007199254740992');
    }
  });
});

describe('junction customers evaluate', () => {
  it('gives the exact pairwise precision and recall on a hand-made truth', async () => {
    // View: {a1, a2} (one email), {a3}, {t1, t2, t3} (one email); other tests' records are not in the truth.
    await inTx(db.pool, (tx) =>
      applyBatch(tx, [
        mapped('eval/s/a1', { keys: [['email', 'a@e.cn']] }),
        mapped('eval/s/a2', { keys: [['email', 'a@e.cn']] }),
        mapped('eval/s/a3', { keys: [['email', 'a3@e.cn']] }),
        ...['t1', 't2', 't3'].map((k) => mapped(`eval/s/${k}`, { keys: [['email', 't@e.cn']] })),
      ], rules),
    );
    // Truth: a1, a2, a3 are one person (a3 missed); t1 and t2 one person, t3 another (over-merged); O9 is not in the view.
    const truth = path.join(dir, 'truth.csv');
    fs.writeFileSync(truth, 'source,stream,source_key,person_id\neval,s,a1,p1\neval,s,a2,p1\neval,s,a3,p1\neval,s,t1,p2\neval,s,t2,p2\neval,s,t3,p3\neval,s,O9,p4\n');
    // predicted pairs: C(2,2) + C(1,2) + C(3,2) = 1 + 0 + 3 = 4; true pairs: C(3,2) + C(2,2) = 3 + 1 = 4;
    // correct: {a1, a2} and {t1, t2} = 2. precision = 2/4, recall = 2/4.
    const r = await cli('evaluate', '--truth', truth, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      records: 6, onlyInTruth: 1, customers: 3, persons: 3,
      pairs: { correct: 2, predicted: 4, true: 4 }, precision: 0.5, recall: 0.5,
    });
    const text = await cli('evaluate', '--truth', truth);
    expect(text.stdout).toContain('precision = correct / predicted = 0.50000');
    expect(text.stdout).toContain('recall    = correct / true      = 0.50000');
    expect(text.stdout).toContain('1 only in the truth file are left out');
  });

  it('refuses a file without the ground-truth header (ID_TRUTH_INVALID)', async () => {
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'a,b\n1,2\n');
    const r = await cli('evaluate', '--truth', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[ID_TRUTH_INVALID]');
  });
});
