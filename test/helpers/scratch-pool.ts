/**
 * Pools of scratch databases that tests drop when done. `pool.end()` resolves before every
 * socket is gone, so the `DROP DATABASE … WITH (FORCE)` that follows may terminate one still
 * closing (57P01), which the pool re-emits as an 'error' event: expected once closing began.
 * Any other idle-connection error still fails the run.
 */
import type pg from 'pg';

/** Installs the pool's error handler; call the returned function before `pool.end()`. */
export function tolerateDropOnClose(pool: pg.Pool): () => void {
  let closing = false;
  pool.on('error', (err) => {
    if (closing && (err as pg.DatabaseError).code === '57P01') return;
    throw err;
  });
  return () => {
    closing = true;
  };
}
