/**
 * Dead letters (`hub.dead_letter`): a record that failed a stage, with the stage, error code
 * and message, mapping version and raw payload, so `junction dlq replay` can run it again
 * through the current mapping. Written in the batch's transaction: the batch goes on.
 */
import type { Pool, PoolClient } from 'pg';
import type { RecordFailure } from './types.js';

type Queryable = Pick<Pool | PoolClient, 'query'>;

/** Inserts every failure of a batch with one statement. */
export async function writeDeadLetters(tx: Queryable, runId: number | null, failures: readonly RecordFailure[]): Promise<void> {
  if (failures.length === 0) return;
  await tx.query(
    `INSERT INTO hub.dead_letter (run_id, source, stream, source_key, stage, error_code, error_message, mapping_version, payload)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[])`,
    [
      runId,
      failures.map((f) => f.source),
      failures.map((f) => f.stream),
      failures.map((f) => f.sourceKey),
      failures.map((f) => f.stage),
      failures.map((f) => f.code),
      failures.map((f) => f.message),
      failures.map((f) => f.mappingVersion ?? null),
      failures.map((f) => JSON.stringify(f.raw)),
    ],
  );
}
