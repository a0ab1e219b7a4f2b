/**
 * Stream checkpoints in `hub.checkpoint`. Written with the batch's data in one transaction,
 * so a crash re-reads at most the uncommitted batch.
 */
import type { PoolClient, Pool } from 'pg';
import type { Checkpoint } from '../connectors/types.js';

type Queryable = Pick<Pool | PoolClient, 'query'>;

export async function readCheckpoint(db: Queryable, source: string, stream: string): Promise<Checkpoint | null> {
  const res = await db.query<{ cursor_value: Checkpoint['cursor']; cursor_key: string | null }>(
    'SELECT cursor_value, cursor_key FROM hub.checkpoint WHERE source = $1 AND stream = $2',
    [source, stream],
  );
  const row = res.rows[0];
  if (!row || (row.cursor_value === null && row.cursor_key === null)) return null;
  return { cursor: row.cursor_value, key: row.cursor_key };
}

/** Stores `checkpoint` (in the caller's transaction) and adds `records` to the stream's total. */
export async function writeCheckpoint(tx: Queryable, source: string, stream: string, checkpoint: Checkpoint | null, records: number): Promise<void> {
  await tx.query(
    `INSERT INTO hub.checkpoint (source, stream, cursor_value, cursor_key, records_total, updated_at)
     VALUES ($1, $2, $3::jsonb, $4, $5, now())
     ON CONFLICT (source, stream) DO UPDATE
       SET cursor_value = EXCLUDED.cursor_value, cursor_key = EXCLUDED.cursor_key,
           records_total = hub.checkpoint.records_total + EXCLUDED.records_total, updated_at = now()`,
    [source, stream, checkpoint ? JSON.stringify(checkpoint.cursor) : null, checkpoint?.key === null || checkpoint?.key === undefined ? null : String(checkpoint.key), records],
  );
}
