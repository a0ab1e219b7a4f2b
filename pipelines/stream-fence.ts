/**
 * Fence numbers for the one-job-per-stream rule (migration 015): the Redis stream lock
 * (stream-lock.ts) decides who runs; the fence decides whose commits PostgreSQL accepts.
 * Taking a fence waits for a batch the previous holder has open (its FOR SHARE read), and
 * every later batch of that holder rolls back with SYNC_LOCK_LOST.
 */
import type pg from 'pg';
import { JunctionError } from '../config/errors.js';

/** SQLSTATE of a lock_timeout that ran out. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * The next fence number of a stream: commits under any smaller one are refused from now on.
 * Waits at most `waitMs` for a batch the previous holder has open (a frozen process could hold
 * it for as long as PostgreSQL keeps its connection); null when that wait ran out.
 */
export async function takeFence(pool: pg.Pool, source: string, stream: string, waitMs = 10_000): Promise<number | null> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    await tx.query("SELECT set_config('lock_timeout', $1, true)", [`${Math.max(1, Math.round(waitMs))}ms`]);
    const { rows } = await tx.query<{ fence: string }>(
      `INSERT INTO hub.stream_fence (source, stream, fence) VALUES ($1, $2, 1)
       ON CONFLICT (source, stream) DO UPDATE SET fence = hub.stream_fence.fence + 1, taken_at = now()
       RETURNING fence`,
      [source, stream],
    );
    await tx.query('COMMIT');
    return Number(rows[0]!.fence);
  } catch (err) {
    await tx.query('ROLLBACK').catch(() => undefined);
    if ((err as { code?: string }).code === LOCK_NOT_AVAILABLE) return null;
    throw err;
  } finally {
    tx.release();
  }
}

/**
 * In a transaction that is about to commit: throws SYNC_LOCK_LOST (retryable; the batch rolls
 * back) unless `fence` is still the stream's. Holds the row FOR SHARE until COMMIT, so no
 * newer fence is taken in between.
 */
export async function assertFence(tx: pg.ClientBase, source: string, stream: string, fence: number): Promise<void> {
  const { rows } = await tx.query<{ fence: string }>('SELECT fence FROM hub.stream_fence WHERE source = $1 AND stream = $2 FOR SHARE', [source, stream]);
  const now = rows[0] ? Number(rows[0].fence) : null;
  if (now !== fence) {
    throw new JunctionError('SYNC_LOCK_LOST', `${source}.${stream}: another job took the stream (fence ${now ?? 'none'}, this job's ${fence}): this worker stalled past its lock; its batch is rolled back`, {
      retryable: true,
    });
  }
}
