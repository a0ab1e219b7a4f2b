/**
 * Scratch PostgreSQL databases for tests: created afresh (dropped first if a crashed run left
 * one), with a pool, and dropped again by `close()`.
 *
 * `pool.end()` resolves before every socket is gone, so the `DROP DATABASE … WITH (FORCE)`
 * that follows may terminate one still closing (57P01), which the pool re-emits as an
 * 'error' event: expected once closing began. Any other idle-connection error still fails
 * the run.
 */
import pg from 'pg';
import { stackSettings, withDatabase } from '../../config/env.js';

/** Runs one statement on the stack's `postgres` database (CREATE / DROP DATABASE). */
export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(stackSettings().services.postgres.url, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface FreshDatabase {
  url: string;
  pool: pg.Pool;
  /** Ends the pool and drops the database. */
  close(): Promise<void>;
}

/** `db` created afresh on the stack's PostgreSQL, with a pool of `max` connections. */
export async function freshDatabase(db: string, max: number): Promise<FreshDatabase> {
  await adminQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${db}`);
  const url = withDatabase(stackSettings().services.postgres.url, db);
  const pool = new pg.Pool({ connectionString: url, max });
  let closing = false;
  pool.on('error', (err) => {
    if (closing && (err as pg.DatabaseError).code === '57P01') return;
    throw err;
  });
  return {
    url,
    pool,
    close: async () => {
      closing = true;
      await pool.end();
      await adminQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    },
  };
}
