/** What the gateway's store functions run their SQL on: the pool, or one client inside a transaction. */
import type pg from 'pg';

export type Db = pg.Pool | pg.PoolClient | pg.Client;

/** Runs `fn` in a transaction on a connection of its own. */
export async function inTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    const out = await fn(tx);
    await tx.query('COMMIT');
    return out;
  } catch (err) {
    await tx.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    tx.release();
  }
}
