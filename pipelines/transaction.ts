/**
 * One PostgreSQL transaction on a connection of its own, re-run from the start when it fails
 * with a serialization failure or a deadlock (the work must be safe to repeat: batch loads
 * and replays are). Used by the batch runner and dead-letter replay.
 */
import type pg from 'pg';

/** SQLSTATEs worth re-running the transaction at once for: serialization failure, deadlock. */
export const RETRY_TX_SQLSTATE = new Set(['40001', '40P01']);
const TX_ATTEMPTS = 3;

export async function inTransaction<T>(pool: pg.Pool, work: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const tx = await pool.connect();
    try {
      await tx.query('BEGIN');
      const out = await work(tx);
      await tx.query('COMMIT');
      return out;
    } catch (err) {
      await tx.query('ROLLBACK').catch(() => undefined);
      const sqlstate = (err as { code?: string }).code;
      if (attempt < TX_ATTEMPTS && sqlstate && RETRY_TX_SQLSTATE.has(sqlstate)) continue;
      throw err;
    } finally {
      tx.release();
    }
  }
}
