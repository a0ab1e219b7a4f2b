/**
 * A poison record through the queue: the worker dead-letters it with its reason and loads
 * the rest of its batch; after the mapping is fixed (a second version of the file),
 * `junction dlq replay` loads it and marks it replayed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import type { ReplaySummary } from '../../pipelines/replay.js';
import { runCli } from '../helpers/cli.js';
import { queuedSync, type QueuedSync } from '../helpers/queued-sync.js';
import { redisUrlWithDb } from '../helpers/queue-harness.js';
import { SOURCE, STREAM, hashDiff, sourceHashes, unifiedHashes, writeSyncConfig } from '../helpers/sync-fixture.js';

const ROWS = 5000;
const POISON = ['SO0000001', 'SO0001234', 'SO0001235', 'SO0004999'];
let fx: QueuedSync;

beforeAll(async () => {
  fx = await queuedSync({ name: 'rel_poison', rows: ROWS, redisUrl: redisUrlWithDb(9), pipelines: '{ batch_size: 1000, attempts: 3, backoff_ms: 200 }' });
  await fx.src.pool.query(`UPDATE legacy.orders SET status = 'ON_HOLD' WHERE order_no = ANY($1)`, [POISON]);
}, 180_000);

afterAll(async () => {
  await fx?.close();
});

describe('a poison record in a queued sync', () => {
  it('is dead-lettered with its reason while the rest of its batch loads', async () => {
    await fx.startWorker();
    await fx.enqueue('poison');
    const end = await fx.waitForJob('poison', 180_000);
    expect(end.state, end.state === 'failed' ? end.reason : '').toBe('completed');
    if (end.state === 'completed') expect(end.result).toMatchObject({ read: ROWS, failed: POISON.length });

    const letters = await fx.hub.pool.query<{ source_key: string; stage: string; error_code: string; error_message: string; payload: { status: string } }>(
      'SELECT source_key, stage, error_code, error_message, payload FROM hub.dead_letter ORDER BY source_key',
    );
    expect(letters.rows.map((l) => l.source_key)).toEqual(POISON);
    for (const l of letters.rows) {
      expect(l).toMatchObject({ stage: 'map', error_code: 'MAP_BAD_VALUE', payload: { status: 'ON_HOLD' } });
      expect(l.error_message).toMatch(/fields\.status.*ON_HOLD/);
    }
    const loaded = await unifiedHashes(fx.hub.pool);
    expect(loaded.size).toBe(ROWS - POISON.length);
    for (const key of POISON) expect(loaded.has(key)).toBe(false);
  }, 240_000);

  it('after the mapping is fixed, junction dlq replay loads it and marks it replayed', async () => {
    writeSyncConfig(fx.dir, { sourceUrl: fx.src.url, mappingVersion: 2 });
    const res = await runCli(['dlq', 'replay', '--config', fx.configFile, '--source', SOURCE, '--json'], fx.env);
    expect(res.code, res.stderr).toBe(0);
    const summary = JSON.parse(res.stdout) as ReplaySummary;
    expect(summary).toMatchObject({ selected: POISON.length, loaded: POISON.length, failedAgain: 0, superseded: 0 });

    const letters = await fx.hub.pool.query<{ replayed_at: Date | null; replay_run_id: string | null }>('SELECT replayed_at, replay_run_id FROM hub.dead_letter');
    for (const l of letters.rows) {
      expect(l.replayed_at).toBeInstanceOf(Date);
      expect(Number(l.replay_run_id)).toBe(summary.streams[0]!.runId);
    }
    const expected = await sourceHashes(await loadConfig(fx.configFile));
    expect(hashDiff(expected, await unifiedHashes(fx.hub.pool))).toEqual([]);
    const [view] = await fx.ch.rows<{ n: string; pending: string }>(
      `SELECT count() AS n, countIf(status = 'pending') AS pending FROM orders_current WHERE source = '${SOURCE}' AND stream = '${STREAM}'`,
    );
    expect(view).toEqual({ n: String(ROWS), pending: String(POISON.length) });
  }, 120_000);
});
