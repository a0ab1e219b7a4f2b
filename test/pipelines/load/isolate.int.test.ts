/**
 * A batch PostgreSQL refuses for one record's data loads again in halves: that record is a
 * ID_LOAD_REFUSED failure with its key and the server's reason, the others load, all in the
 * batch's one transaction. (`2024-02-30` passes the load gate, which reads dates with
 * Date.parse, and PostgreSQL refuses it: a stand-in for any value the gate did not foresee.)
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBatch } from '../../../pipelines/load/apply-batch.js';
import { applyIsolating } from '../../../pipelines/load/isolate.js';
import { valueProblem } from '../../../pipelines/load/values.js';
import { inTx, mapped, partitionOf, scratchDatabase, testRules, type ScratchDb } from '../../helpers/unified.js';

let db: ScratchDb;
const rules = testRules();

beforeAll(async () => {
  db = await scratchDatabase('load_isolate');
});

afterAll(async () => {
  await db?.close();
});

/** `n` letters PostgreSQL cannot compress below the index's limit (a repeated letter would fit). */
const incompressible = (n: number) => Array.from(randomBytes(n), (b) => String.fromCharCode(97 + (b % 26))).join('');

describe('applyIsolating', () => {
  it('dead-letters the record PostgreSQL refuses and loads the rest of the batch', async () => {
    await db.reset();
    expect(valueProblem('2024-02-30', 'date')).toBeNull();
    const records = [
      mapped('shop/accounts/1', { fields: { name: 'Ann', birthday: '1990-05-17' }, keys: [['email', 'ann@example.com']] }),
      mapped('shop/accounts/2', { fields: { name: 'Bob', birthday: '2024-02-30' }, keys: [['email', 'bob@example.com']] }),
      mapped('shop/accounts/3', { fields: { name: 'Cy' }, keys: [['email', 'ann@example.com']] }),
    ];
    const result = await inTx(db.pool, (tx) => applyIsolating(tx, records, rules));
    expect(result.failures).toEqual([expect.objectContaining({ sourceKey: '2', stage: 'load', code: 'ID_LOAD_REFUSED', message: expect.stringContaining('SQLSTATE 22008') })]);
    expect(result.loaded).toBe(2);
    expect(await partitionOf(db.pool)).toEqual([['shop/accounts/1', 'shop/accounts/3']]);
  });

  it('refuses at the gate a key or identity value too long to index (ID_INVALID_VALUE); the rest loads', async () => {
    await db.reset();
    const long = `${'a'.repeat(6000)}@example.com`;
    const records = [
      mapped('shop/accounts/1', { fields: { name: 'Ann' }, keys: [['email', 'ann@example.com']] }),
      mapped('shop/accounts/2', { fields: { name: 'Bob' }, keys: [['email', long]] }),
      mapped(`shop/accounts/${'k'.repeat(3000)}`, { fields: { name: 'Cy' }, keys: [['email', 'cy@example.com']] }),
    ];
    const result = await inTx(db.pool, (tx) => applyIsolating(tx, records, rules));
    expect(result.failures.map((f) => [f.sourceKey?.slice(0, 5), f.code, f.message])).toEqual([
      ['2', 'ID_INVALID_VALUE', 'identity email is 6012 bytes long, over the 2000 a key or identity value may have (it is indexed)'],
      ['kkkkk', 'ID_INVALID_VALUE', 'key is 3000 bytes long, over the 2000 a key or identity value may have (it is indexed)'],
    ]);
    expect(await partitionOf(db.pool)).toEqual([['shop/accounts/1']]);
  });

  it('dead-letters alone a record whose derived key is too large for its index (SQLSTATE 54000), and loads the rest', async () => {
    await db.reset();
    const derived = testRules({
      kinds: {
        email: { priority: 50, normalize: 'email', blocked: [] },
        phone: { priority: 40, normalize: 'phone', blocked: [], cardinality_cap: 1 },
        phone_name: { priority: 35, normalize: 'none', blocked: [], cardinality_cap: 1, derive: { kind: 'phone', fields: ['name'] } },
      },
    });
    const records = [
      mapped('shop/accounts/1', { fields: { name: 'Ann' }, keys: [['email', 'ann@example.com'], ['phone', '+8613911112222']] }),
      mapped('shop/accounts/2', { fields: { name: incompressible(3000) }, keys: [['email', 'bob@example.com'], ['phone', '+8613911113333']] }),
    ];
    const result = await inTx(db.pool, (tx) => applyIsolating(tx, records, derived));
    expect(result.failures).toEqual([expect.objectContaining({ sourceKey: '2', code: 'ID_LOAD_REFUSED', message: expect.stringContaining('SQLSTATE 54000') })]);
    expect(await partitionOf(db.pool)).toEqual([['shop/accounts/1']]);
  });

  it('passes a batch PostgreSQL accepts through in one go', async () => {
    await db.reset();
    const result = await inTx(db.pool, (tx) => applyIsolating(tx, [mapped('shop/accounts/9', { fields: { name: 'Di' }, keys: [['email', 'di@example.com']] })], rules));
    expect({ loaded: result.loaded, failures: result.failures }).toEqual({ loaded: 1, failures: [] });
  });

  it('finds the refused records of a large batch by halving it, in far fewer loads than one per record', async () => {
    await db.reset();
    const bad = new Set([17, 50]);
    const records = Array.from({ length: 64 }, (_, i) =>
      mapped(`shop/accounts/${i}`, { fields: { name: `P${i}`, birthday: bad.has(i) ? '2024-02-30' : '1990-05-17' }, keys: [['email', `p${i}@example.com`]] }),
    );
    let loads = 0;
    const counted: typeof applyBatch = (tx, batch, r) => {
      loads += 1;
      return applyBatch(tx, batch, r);
    };
    const result = await inTx(db.pool, (tx) => applyIsolating(tx, records, rules, counted));
    expect(result.failures.map((f) => f.sourceKey).sort()).toEqual(['17', '50']);
    expect(result.loaded).toBe(62);
    expect(result.customerIds).toHaveLength(62);
    expect(result.customerIds).toEqual([...result.customerIds].sort((a, b) => a - b));
    expect((await partitionOf(db.pool)).flat()).toHaveLength(62);
    // The whole batch, then halves down to each refused record: at most 1 + 2·2·log2(64) = 25 loads (one per record: 65).
    expect(loads).toBeLessThanOrEqual(25);
  });
});
