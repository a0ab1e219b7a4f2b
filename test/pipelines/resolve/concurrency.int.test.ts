/**
 * Two workers resolving overlapping batches at the same time, each on its own connection:
 * never two customers for one identity, never a deadlock, and the same customers as if
 * the batches had run one after the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBatch } from '../../../pipelines/load/apply-batch.js';
import type { MappedRecord } from '../../../pipelines/types.js';
import { lockStripe } from '../../../pipelines/resolve/keys.js';
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

  it('a value another worker capped while this one waited for its customer is capped here too', async () => {
    // Phone P is held by one person (A and B are linked through L) until L lets email b go:
    // then A+L and B are two people holding P, over the cap of 1, and P links nobody.
    const capOne = testRules({ phoneCap: 1 });
    const P = '+8613911112222';
    const A = mapped('shop_pg/accounts/A', { keys: [['email', 'a@x.cn'], ['phone', P]] });
    const B = mapped('shop_pg/accounts/B', { keys: [['email', 'b@x.cn'], ['phone', P]] });
    const L = (emails: string[]) => mapped('crm_oracle/customers/L', { keys: emails.map((e): [string, string] => ['email', e]) });
    const R2 = mapped('app_mongo/users/R2', { keys: [['email', 'z@x.cn'], ['phone', P]] });
    const R3 = mapped('orders_soap/orders/R3', { target: 'order', keys: [['phone', P]] });
    // The two batches share no lock stripe: the second worker meets the first only at the customer's row.
    const stripes = (names: string[]) => names.map((n) => lockStripe(n, capOne.lockStripes));
    const firstStripes = stripes(['crm_oracle/customers/L', 'email:a@x.cn']);
    expect(stripes(['app_mongo/users/R2', 'orders_soap/orders/R3', 'email:z@x.cn', `phone:${P}`]).filter((s) => firstStripes.includes(s))).toEqual([]);

    await db.reset();
    await inTx(db.pool, (tx) => applyBatch(tx, [A, B, L(['a@x.cn', 'b@x.cn'])], capOne));
    expect(await partitionOf(db.pool)).toEqual([['crm_oracle/customers/L', 'shop_pg/accounts/A', 'shop_pg/accounts/B']]);
    const first = await db.pool.connect();
    const second = await db.pool.connect();
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      await applyBatch(first, [L(['a@x.cn'])], capOne);
      const pid = (await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const pending = applyBatch(second, [R2, R3], capOne);
      await waitUntilBlocked(pid);
      await first.query('COMMIT');
      await pending;
      await second.query('COMMIT');
    } finally {
      first.release();
      second.release();
    }
    // As one after the other: P is capped, so R2 and R3 are two customers.
    expect(await partitionOf(db.pool)).toEqual([
      ['app_mongo/users/R2'],
      ['crm_oracle/customers/L', 'shop_pg/accounts/A'],
      ['orders_soap/orders/R3'],
      ['shop_pg/accounts/B'],
    ]);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM unified.customer_identity WHERE kind = 'phone' AND value = $1 AND state = 'link'`, [P]);
    expect(rows[0].n).toBe(0);
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
