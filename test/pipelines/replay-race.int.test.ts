/**
 * Replay against a sync committing the same record: the letter must not be loaded over the
 * newer version. The sync's batch holds the record's stripe lock while the replay starts; the
 * replay may only decide whether its letter is outdated once it holds that lock itself.
 * Two replays at once: the one that finds its letters taken records no run.
 * A sync dead-letters a newer version of the record while a replay runs (a letter takes none
 * of the record's locks): the older letter must not be loaded, nor the replay's own load make
 * the newer letter look outdated to the next replay (whose payload would then never load).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import type { SourceRecord } from '../../connectors/types.js';
import { writeDeadLetters } from '../../pipelines/dead-letter.js';
import { applyBatch } from '../../pipelines/load/apply-batch.js';
import { compileMapping } from '../../pipelines/map/compile.js';
import { mapBatch } from '../../pipelines/map/map-batch.js';
import { replayDeadLetters } from '../../pipelines/replay.js';
import { runSync } from '../../pipelines/run-sync.js';
import { recordRef } from '../../pipelines/resolve/keys.js';
import { lockStripes } from '../../pipelines/resolve/region.js';
import { resolveRules } from '../../pipelines/resolve/rules.js';
import type { RecordFailure } from '../../pipelines/types.js';
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

/** A map-stage letter of `raw` (status ON_HOLD, which mapping version 1 did not know), keyed by its order_no unless `sourceKey` says. */
function letterOf(raw: SourceRecord, sourceKey: string | null = String(raw.order_no)): RecordFailure {
  return { source: SOURCE, stream: STREAM, sourceKey, stage: 'map', code: sourceKey === null ? 'MAP_MISSING_KEY' : 'MAP_BAD_VALUE', message: 'status ON_HOLD', raw, mappingVersion: 'v1' };
}

async function pendingLetters(key: string): Promise<{ id: number; total: string }[]> {
  const { rows } = await hub.pool.query<{ id: string; total: string }>(
    `SELECT id, payload->>'total' AS total FROM hub.dead_letter WHERE payload->>'order_no' = $1 AND replayed_at IS NULL ORDER BY id`,
    [key],
  );
  return rows.map((r) => ({ id: Number(r.id), total: r.total }));
}

async function stored(key: string): Promise<{ status: string; total_amount: string }[]> {
  return (await hub.pool.query(`SELECT status, total_amount FROM unified."order" WHERE source_key = $1`, [key])).rows;
}

describe('replay while a sync dead-letters a newer version of the record', () => {
  it('supersedes the older letter it picked and replays the newer one in its place', async () => {
    const key = 'SO0000011';
    const older = { ...order('ON_HOLD', '2025-02-01T00:00:00Z'), order_no: key, total: '1.00' };
    await writeDeadLetters(hub.pool, null, [letterOf(older)]);
    const olderId = (await pendingLetters(key))[0]!.id;
    // The replay picks the older letter, then waits for the record's stripe (held here).
    const blocker = await hub.pool.connect();
    let replay: ReturnType<typeof replayDeadLetters> | undefined;
    try {
      await blocker.query('BEGIN');
      await lockStripes(blocker, [recordRef({ source: SOURCE, stream: STREAM, sourceKey: key })], resolveRules(config).lockStripes);
      replay = replayDeadLetters({ config, pool: hub.pool, log: silentLogger, filter: { ids: [olderId] } });
      for (let i = 0; i < 200 && !(await someoneWaitsForAdvisoryLock()); i++) await sleep(25);
      expect(await someoneWaitsForAdvisoryLock()).toBe(true);
      // Meanwhile a sync reads the record again and dead-letters its newer version.
      await writeDeadLetters(hub.pool, null, [letterOf({ ...older, total: '2.00', updated_at: '2025-02-02T00:00:00Z' })]);
      await blocker.query('COMMIT');
    } finally {
      blocker.release();
    }
    const newerId = Number((await hub.pool.query(`SELECT max(id) AS id FROM hub.dead_letter WHERE payload->>'order_no' = $1`, [key])).rows[0].id);
    expect(newerId).toBeGreaterThan(olderId);
    const summary = await replay!;
    expect(summary).toMatchObject({ selected: 2, loaded: 1, failedAgain: 0, superseded: 1 });
    expect(summary.streams[0]!.replacedBy).toEqual([{ id: olderId, by: newerId }]);
    expect(await stored(key)).toEqual([{ status: 'pending', total_amount: '2.00' }]);
    expect(await pendingLetters(key)).toEqual([]);
    // And it stays so.
    expect(await replayDeadLetters({ config, pool: hub.pool, log: silentLogger, filter: { ids: [olderId, newerId] } })).toMatchObject({ selected: 0 });
    expect(await stored(key)).toEqual([{ status: 'pending', total_amount: '2.00' }]);
  });

  it("a newer letter committed after the replay looked is not made outdated by the replay's load of the older one", async () => {
    const key = 'SO0000012';
    const older = { ...order('ON_HOLD', '2025-03-01T00:00:00Z'), order_no: key, total: '1.00' };
    await writeDeadLetters(hub.pool, null, [letterOf(older)]);
    const olderId = (await pendingLetters(key))[0]!.id;
    // A sync batch that dead-letters the newer version: begun (its letter's created_at) before
    // the replay loads the older one, committed after the replay looked for newer letters.
    const sync = await hub.pool.connect();
    try {
      await sync.query('BEGIN');
      await writeDeadLetters(sync, null, [letterOf({ ...older, total: '2.00', updated_at: '2025-03-02T00:00:00Z' })]);
      await sleep(50);
      const first = await replayDeadLetters({ config, pool: hub.pool, log: silentLogger, filter: { ids: [olderId] } });
      expect(first).toMatchObject({ selected: 1, loaded: 1, superseded: 0 });
      expect(await stored(key)).toEqual([{ status: 'pending', total_amount: '1.00' }]);
      await sync.query('COMMIT');
    } finally {
      sync.release();
    }
    // The newer letter is newer than the data the replay loaded: the next replay loads it.
    const pending = await pendingLetters(key);
    expect(pending.map((l) => l.total)).toEqual(['2.00']);
    const second = await replayDeadLetters({ config, pool: hub.pool, log: silentLogger, filter: { ids: [pending[0]!.id] } });
    expect(second).toMatchObject({ selected: 1, loaded: 1, superseded: 0 });
    expect(await stored(key)).toEqual([{ status: 'pending', total_amount: '2.00' }]);
    expect(await pendingLetters(key)).toEqual([]);
  });

  it('a letter written without a key is checked on the key the mapping now gives its record', async () => {
    const key = 'SO0000013';
    const older = { ...order('ON_HOLD', '2025-04-01T00:00:00Z'), order_no: key, total: '1.00' };
    await writeDeadLetters(hub.pool, null, [letterOf(older, null)]);
    const letterId = (await pendingLetters(key))[0]!.id;
    // A sync loads a newer version of the record after the letter was written.
    await sleep(20);
    const compiled = compileMapping(config.mappings.find((m) => m.mapping.stream === STREAM)!, config);
    const newer = (await mapBatch(compiled, SOURCE, STREAM, [{ ...older, status: 'COMPLETED', total: '3.00', updated_at: '2025-04-02T00:00:00Z' }])).records;
    const tx = await hub.pool.connect();
    try {
      await tx.query('BEGIN');
      await applyBatch(tx, newer, resolveRules(config));
      await tx.query('COMMIT');
    } finally {
      tx.release();
    }
    const summary = await replayDeadLetters({ config, pool: hub.pool, log: silentLogger, filter: { ids: [letterId] } });
    expect(summary).toMatchObject({ selected: 1, loaded: 0, superseded: 1 });
    expect(await stored(key)).toEqual([{ status: 'delivered', total_amount: '3.00' }]);
  });
});

describe("a sync on a worker whose clock is behind PostgreSQL's", () => {
  it("still makes an older letter outdated: the batch's synced_at is PostgreSQL's clock, like the letter's created_at", async () => {
    const key = 'SO0000003';
    await writeDeadLetters(hub.pool, null, [letterOf({ ...order('ON_HOLD', '2025-05-01T00:00:00Z'), order_no: key, total: '1.00' })]);
    const letterId = (await pendingLetters(key))[0]!.id;
    // The source's newer version is read and loaded by a sync whose host clock runs an hour slow.
    await src.pool.query(`UPDATE legacy.orders SET status = 'COMPLETED', total = '4.00', updated_at = '2025-05-02T00:00:00Z' WHERE order_no = $1`, [key]);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - 3_600_000 });
    try {
      await runSync({ config, pool: hub.pool, source: SOURCE, stream: STREAM, mode: 'full', batchSize: 100, log: silentLogger });
    } finally {
      vi.useRealTimers();
    }
    expect(await stored(key)).toEqual([{ status: 'delivered', total_amount: '4.00' }]);
    const summary = await replayDeadLetters({ config, pool: hub.pool, log: silentLogger, filter: { ids: [letterId] } });
    expect(summary).toMatchObject({ selected: 1, loaded: 0, superseded: 1 });
    expect(await stored(key)).toEqual([{ status: 'delivered', total_amount: '4.00' }]);
  });
});
