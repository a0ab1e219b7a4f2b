/**
 * A replay goes stream by stream: one stream failing (here a trigger on hub.dead_letter
 * refuses to mark its letters replayed, a stand-in for a statement timeout or a lost lock)
 * is reported in that stream's summary and run, and the streams after it are still replayed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { writeDeadLetters } from '../../pipelines/dead-letter.js';
import { replayDeadLetters } from '../../pipelines/replay.js';
import { SOURCE, STREAM, tempDir, writeSyncConfig } from '../helpers/sync-fixture.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

let hub: ScratchDb;

beforeAll(async () => {
  hub = await scratchDatabase('replay_stream_failure');
  await hub.pool.query(`CREATE FUNCTION public.refuse_replay() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.source = '${SOURCE}' AND NEW.replayed_at IS NOT NULL THEN RAISE EXCEPTION 'replay refused by the test'; END IF;
      RETURN NEW;
    END $$`);
  await hub.pool.query('CREATE TRIGGER refuse_replay BEFORE UPDATE ON hub.dead_letter FOR EACH ROW EXECUTE FUNCTION public.refuse_replay()');
});

afterAll(async () => {
  await hub?.close();
});

describe('dead-letter replay of several streams', () => {
  it('reports a stream that fails in its summary and run, and replays the streams after it', async () => {
    const config = await loadConfig(writeSyncConfig(tempDir('replay-stream-failure'), { sourceUrl: 'postgres://nobody@127.0.0.1:1/none', mappingVersion: 2 }));
    const raw = { order_no: 'SO1', customer_email: 'so1@example.com', status: 'PAID', total: '10.5', created_at: '2025-01-01T10:00:00Z', updated_at: '2025-01-01T00:00:00Z' };
    await writeDeadLetters(hub.pool, null, [{ source: SOURCE, stream: STREAM, sourceKey: 'SO1', stage: 'map', code: 'MAP_BAD_VALUE', message: 'status ON_HOLD', raw }]);
    // Sorted after it: a stream of a source the config no longer has (its letters fail again, reported).
    await writeDeadLetters(hub.pool, null, [{ source: 'zz_gone', stream: 'things', sourceKey: 'T1', stage: 'map', code: 'MAP_BAD_VALUE', message: 'x', raw: { id: 'T1' } }]);

    const summary = await replayDeadLetters({ config, pool: hub.pool, log: silentLogger, filter: {} });

    expect(summary.streams.map((s) => [`${s.source}.${s.stream}`, s.error?.code])).toEqual([[`${SOURCE}.${STREAM}`, 'SYNC_BATCH_FAILED'], ['zz_gone.things', expect.any(String)]]);
    expect(summary.streams[0]!.error!.message).toContain('replay refused by the test');
    const run = await hub.pool.query('SELECT status, error_code FROM hub.sync_run WHERE id = $1', [summary.streams[0]!.runId]);
    expect(run.rows).toEqual([{ status: 'failed', error_code: 'SYNC_BATCH_FAILED' }]);
    // Nothing of the failed chunk stayed: its letter is pending, its order not loaded.
    const letters = await hub.pool.query('SELECT source_key, replayed_at IS NOT NULL AS replayed FROM hub.dead_letter ORDER BY source_key');
    expect(letters.rows).toEqual([{ source_key: 'SO1', replayed: false }, { source_key: 'T1', replayed: false }]);
    expect((await hub.pool.query('SELECT count(*)::int AS n FROM unified."order"')).rows[0].n).toBe(0);
  });
});
