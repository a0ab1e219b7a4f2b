/**
 * Replay against a sync committing the same record: the letter must not be loaded over the
 * newer version. The sync's batch holds the record's stripe lock while the replay starts; the
 * replay may only decide whether its letter is outdated once it holds that lock itself.
 * Two replays at once: the one that finds its letters taken records no run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import type { SourceRecord } from '../../connectors/types.js';
import { writeDeadLetters } from '../../pipelines/dead-letter.js';
import { applyBatch } from '../../pipelines/load/apply-batch.js';
import { compileMapping } from '../../pipelines/map/compile.js';
import { mapBatch } from '../../pipelines/map/map-batch.js';
import { replayDeadLetters } from '../../pipelines/replay.js';
import { resolveRules } from '../../pipelines/resolve/rules.js';
import { SOURCE, STREAM, scratchSource, tempDir, writeSyncConfig, type ScratchSource } from '../helpers/sync-fixture.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

let hub: ScratchDb;
let src: ScratchSource;
let config: ResolvedConfig;

beforeAll(async () => {
  hub = await scratchDatabase('replay_race');
  src = await scratchSource('replay_race', 3);
  config = await loadConfig(writeSyncConfig(tempDir('replay_race'), { sourceUrl: src.url, mappingVersion: 2, pipelines: '{ batch_size: 100 }' }));
}, 120_000);

afterAll(async () => {
  await hub?.close();
  await src?.close();
});

const order = (status: string, updatedAt: string): SourceRecord => ({
  order_no: 'SO0000001', customer_email: 'c1@example.com', status, total: '10.5', created_at: '2025-01-01T00:00:01Z', updated_at: updatedAt,
});

/** True once some session waits for an advisory lock. */
async function someoneWaitsForAdvisoryLock(): Promise<boolean> {
  const { rows } = await hub.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`);
  return rows.length > 0;
}

describe('replay while a sync commits the same record', () => {
  it('marks the letter superseded instead of loading its older payload over the newer one', async () => {
    const letter = order('ON_HOLD', '2025-01-01T00:00:00Z');
    await writeDeadLetters(hub.pool, null, [{ source: SOURCE, stream: STREAM, sourceKey: 'SO0000001', stage: 'map', code: 'MAP_BAD_VALUE', message: 'status ON_HOLD', raw: letter, mappingVersion: 'v1' }]);
    const compiled = compileMapping(config.mappings.find((m) => m.mapping.stream === STREAM)!, config);
    const newer = (await mapBatch(compiled, SOURCE, STREAM, [order('COMPLETED', '2025-01-02T00:00:00Z')])).records;
    // A sync batch of the newer version, not committed yet: it holds the record's stripe.
    const tx = await hub.pool.connect();
    try {
      await tx.query('BEGIN');
      await applyBatch(tx, newer, resolveRules(config));
      const replay = replayDeadLetters({ config, pool: hub.pool, log: silentLogger, filter: {} });
      for (let i = 0; i < 200 && !(await someoneWaitsForAdvisoryLock()); i++) await sleep(25);
      expect(await someoneWaitsForAdvisoryLock()).toBe(true);
      await tx.query('COMMIT');
      expect(await replay).toMatchObject({ selected: 1, loaded: 0, superseded: 1 });
    } finally {
      tx.release();
    }
    const { rows } = await hub.pool.query(`SELECT status FROM unified."order" WHERE order_no = 'SO0000001'`);
    expect(rows).toEqual([{ status: 'delivered' }]);
  });
});

describe('two replays at once', () => {
  it('the one that finds every letter taken by the other records no run', async () => {
    const letter = order('ON_HOLD', '2025-01-03T00:00:00Z');
    await writeDeadLetters(hub.pool, null, [{ source: SOURCE, stream: STREAM, sourceKey: 'SO0000002', stage: 'map', code: 'MAP_BAD_VALUE', message: 'status ON_HOLD', raw: { ...letter, order_no: 'SO0000002' }, mappingVersion: 'v1' }]);
    const runs = async () => (await hub.pool.query<{ id: string }>(`SELECT id FROM hub.sync_run ORDER BY id`)).rows.map((r) => Number(r.id));
    const before = await runs();
    // The other replay, mid-chunk: it holds the letter's row lock (FOR UPDATE) until it commits.
    const other = await hub.pool.connect();
    try {
      await other.query('BEGIN');
      const held = await other.query(`SELECT id FROM hub.dead_letter WHERE replayed_at IS NULL FOR UPDATE`);
      expect(held.rows).toHaveLength(1);
      const summary = await replayDeadLetters({ config, pool: hub.pool, log: silentLogger, filter: { source: SOURCE } });
      expect(await runs()).toEqual(before);
      expect(summary).toEqual({ selected: 0, loaded: 0, failedAgain: 0, superseded: 0, streams: [] });
    } finally {
      await other.query('ROLLBACK');
      other.release();
    }
    // Once free, it is replayed, under a run of its own.
    const summary = await replayDeadLetters({ config, pool: hub.pool, log: silentLogger, filter: { source: SOURCE } });
    expect(summary).toMatchObject({ selected: 1, loaded: 1, streams: [{ selected: 1, loaded: 1 }] });
    expect(await runs()).toEqual([...before, summary.streams[0]!.runId]);
  });
});
