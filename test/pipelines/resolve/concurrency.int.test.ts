/**
 * Two workers resolving overlapping batches at the same time, each on its own connection:
 * never two customers for one identity, never a deadlock, and the same customers as if
 * the batches had run one after the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBatch } from '../../../pipelines/load/apply-batch.js';
import type { MappedRecord } from '../../../pipelines/types.js';
import { inTx, mapped, partitionOf, scratchDatabase, testRules, type ScratchDb } from '../../helpers/unified.js';
import { population, shuffledBatches } from './population.js';

let db: ScratchDb;
const rules = testRules({ phoneCap: 2 });

beforeAll(async () => {
  db = await scratchDatabase('concurrency');
});
afterAll(async () => {
  await db?.close();
});

/** Identity values linked to more than one customer (must be none). */
async function duplicateIdentities(): Promise<unknown[]> {
  const { rows } = await db.pool.query(
    `SELECT kind, value, count(DISTINCT customer_id) AS n FROM unified.customer_identity
      WHERE state = 'link' GROUP BY kind, value HAVING count(DISTINCT customer_id) > 1`,
  );
  return rows;
}

/** Waits until `pid` is blocked on a lock (the second worker reached the first one's locks). */
async function waitUntilBlocked(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await db.pool.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [pid]);
    if (rows[0]?.wait_event_type === 'Lock') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`backend ${pid} never waited on a lock`);
}

describe('concurrent resolution', () => {
  it('a second worker seeing the same new key waits, then joins the customer the first created', async () => {
    await db.reset();
    const first = await db.pool.connect();
    const second = await db.pool.connect();
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      await applyBatch(first, [mapped('shop_pg/accounts/1', { keys: [['email', 'same@x.cn']] })], rules);
      const pid = (await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const pending = applyBatch(second, [mapped('app_mongo/users/u1', { keys: [['email', 'same@x.cn'], ['phone', '+8613911112222']] })], rules);
      await waitUntilBlocked(pid);
      await first.query('COMMIT');
      expect(await pending).toMatchObject({ customersCreated: 0, loaded: 1 });
      await second.query('COMMIT');
    } finally {
      first.release();
      second.release();
    }
    expect(await partitionOf(db.pool)).toEqual([['app_mongo/users/u1', 'shop_pg/accounts/1']]);
    expect(await duplicateIdentities()).toEqual([]);
  });

  it('two workers loading overlapping batches in parallel end like one worker did', async () => {
    const records = population(200, 'concurrency');
    await db.reset();
    await inTx(db.pool, (tx) => applyBatch(tx, records, rules));
    const reference = await partitionOf(db.pool);

    for (const round of ['x', 'y']) {
      await db.reset();
      // Both workers get every record, shuffled and split differently: all keys overlap, and
      // each record is loaded by whichever worker comes first (the other finds it unchanged).
      const worker = async (batches: MappedRecord[][]) => {
        for (const batch of batches) await inTx(db.pool, (tx) => applyBatch(tx, batch, rules));
      };
      await Promise.all([worker(shuffledBatches(records, `${round}1`, 30)), worker(shuffledBatches(records, `${round}2`, 30))]);
      expect(await duplicateIdentities()).toEqual([]);
      expect(await partitionOf(db.pool), `round ${round}`).toEqual(reference);
    }
  });
});
