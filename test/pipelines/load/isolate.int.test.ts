/**
 * A batch PostgreSQL refuses for one record's data loads record by record: that record is a
 * ID_LOAD_REFUSED failure with its key and the server's reason, the others load, all in the
 * batch's one transaction. (`2024-02-30` passes the load gate, which reads dates with
 * Date.parse, and PostgreSQL refuses it: a stand-in for any value the gate did not foresee.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('passes a batch PostgreSQL accepts through in one go', async () => {
    await db.reset();
    const result = await inTx(db.pool, (tx) => applyIsolating(tx, [mapped('shop/accounts/9', { fields: { name: 'Di' }, keys: [['email', 'di@example.com']] })], rules));
    expect({ loaded: result.loaded, failures: result.failures }).toEqual({ loaded: 1, failures: [] });
  });
});
