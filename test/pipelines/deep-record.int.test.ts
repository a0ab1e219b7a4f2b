/**
 * A source row whose jsonb column nests far deeper than a record may (a hostile or broken
 * value in the shop database): the PostgreSQL connector hands it out cut, the map stage
 * dead-letters that one row with MAP_RECORD_TOO_DEEP, the rest of its page loads, and the
 * stream goes on past it instead of stopping there on every run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { syncInline } from '../../pipelines/sync-inline.js';
import { SOURCE, STREAM, scratchSource, tempDir, writeSyncConfig, type ScratchSource } from '../helpers/sync-fixture.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

const ROWS = 40;
let hub: ScratchDb;
let src: ScratchSource;

beforeAll(async () => {
  hub = await scratchDatabase('deep_record');
  src = await scratchSource('deep_record', ROWS);
  await src.pool.query(`ALTER TABLE legacy.orders ADD COLUMN extra jsonb`);
  // 2,000 levels: PostgreSQL stores it; JSON.stringify of it would still work, the 10,000 of a
  // worse value would not (test/pipelines/dead-letter.int.test.ts).
  await src.pool.query(`UPDATE legacy.orders SET extra = (repeat('{"a":', 2000) || '1' || repeat('}', 2000))::jsonb WHERE order_no = 'SO0000007'`);
  await src.pool.query(`UPDATE legacy.orders SET extra = '{"gift": true}' WHERE order_no = 'SO0000008'`);
}, 60_000);

afterAll(async () => {
  await hub?.close();
  await src?.close();
});

describe('a source row nested too deep', () => {
  it('is dead-lettered alone; its page loads and the stream is not stuck on it', async () => {
    const config = await loadConfig(writeSyncConfig(tempDir('deep-record'), { sourceUrl: src.url, pipelines: '{ batch_size: 10 }' }));
    const sync = () => syncInline({ config, pool: hub.pool, source: SOURCE, stream: STREAM, batchSize: 10, log: silentLogger });

    expect(await sync()).toMatchObject({ read: ROWS, loaded: ROWS - 1, failed: 1 });
    const letters = await hub.pool.query<{ source_key: string; error_code: string; error_message: string; payload: { extra: unknown } }>(
      'SELECT source_key, error_code, error_message, payload FROM hub.dead_letter');
    expect(letters.rows.map((r) => [r.source_key, r.error_code])).toEqual([['SO0000007', 'MAP_RECORD_TOO_DEEP']]);
    expect(letters.rows[0]!.error_message).toContain('nested deeper than 64 levels');
    expect(JSON.stringify(letters.rows[0]!.payload.extra)).toContain('"$junction_cut"');
    const keys = await hub.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM unified.source_record WHERE source = $1 AND source_key <> 'SO0000007'`, [SOURCE]);
    expect(keys.rows[0]!.n).toBe(ROWS - 1);

    // The next run starts after the bad row: nothing new, nothing failed again.
    await src.pool.query(`UPDATE legacy.orders SET status = 'SHIPPED', updated_at = now() WHERE order_no = 'SO0000009'`);
    expect(await sync()).toMatchObject({ read: 1, loaded: 1, failed: 0 });
  }, 60_000);
});
