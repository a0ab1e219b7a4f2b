/**
 * Same records, same customers: the partition of source records into customers does not
 * depend on the order records arrive in, nor on how they are cut into batches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBatch } from '../../../pipelines/load/apply-batch.js';
import type { MappedRecord } from '../../../pipelines/types.js';
import { inTx, partitionOf, scratchDatabase, testRules, type ScratchDb } from '../../helpers/unified.js';
import { population, shuffledBatches } from './population.js';

let db: ScratchDb;
const rules = testRules({ phoneCap: 2 });
const records = population(150, 'determinism');

beforeAll(async () => {
  db = await scratchDatabase('determinism');
});
afterAll(async () => {
  await db?.close();
});

async function partitionAfter(batches: MappedRecord[][], readAll = false): Promise<string[][]> {
  await db.reset();
  for (const batch of batches) await inTx(db.pool, (tx) => applyBatch(tx, batch, rules, { readAll }));
  return partitionOf(db.pool);
}

describe('determinism', () => {
  it('gives the same partition for one batch, random orders and splits, and one record at a time', async () => {
    const reference = await partitionAfter([records]);
    // The population has families over the cap, merges and shared keys: not a trivial partition.
    expect(reference.length).toBeGreaterThan(100);
    expect(reference.some((c) => c.length >= 5)).toBe(true);
    for (const seed of ['a', 'b', 'c']) {
      expect(await partitionAfter(shuffledBatches(records, seed, 40)), `split ${seed}`).toEqual(reference);
    }
    expect(await partitionAfter([...records].reverse().map((r) => [r]))).toEqual(reference);
  });

  it('standing customers in as one node gives what reading all their records gives, customer ids included', async () => {
    const idsAfter = async (batches: MappedRecord[][], readAll: boolean) => {
      await partitionAfter(batches, readAll);
      const { rows } = await db.pool.query(`SELECT source || '/' || stream || '/' || source_key AS ref, customer_id FROM unified.source_record ORDER BY 1`);
      return rows;
    };
    for (const seed of ['d', 'e']) {
      const batches = shuffledBatches(records, seed, 25);
      expect(await partitionAfter(batches, false), `split ${seed}`).toEqual(await partitionAfter(batches, true));
      expect(await idsAfter(batches, false), `ids, split ${seed}`).toEqual(await idsAfter(batches, true));
    }
  });
});
