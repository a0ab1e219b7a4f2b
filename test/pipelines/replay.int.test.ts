/**
 * Dead-letter replay against a scratch hub and a scratch source: poison records fail the map
 * stage and are dead-lettered while the rest of their batches load; after the mapping is
 * fixed, replay loads them through the current mapping and marks them replayed, letters
 * that fail again keep their payload with the new error, and letters whose record a later
 * sync loaded (or that a newer letter replaces) are superseded rather than loaded, an older
 * letter asked for by id having the newer one replayed in its place; a replay that takes no
 * letter records no run.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackSettings } from '../../config/env.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { CUSTOMER_UPDATED_CHANNEL, type CustomerUpdatedEvent } from '../../pipelines/queue.js';
import { replayDeadLetters } from '../../pipelines/replay.js';
import { syncInline } from '../../pipelines/sync-inline.js';
import { SOURCE, STREAM, hashDiff, scratchSource, sourceHashes, tempDir, unifiedHashes, writeSyncConfig, type ScratchSource } from '../helpers/sync-fixture.js';
import { scratchClickhouse, type ScratchClickhouse } from '../helpers/clickhouse.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

const ROWS = 2000;
let hub: ScratchDb;
let ch: ScratchClickhouse;
let src: ScratchSource;
let dir: string;

async function config(version: 1 | 2): Promise<ResolvedConfig> {
  return loadConfig(writeSyncConfig(dir, { sourceUrl: src.url, mappingVersion: version, pipelines: '{ batch_size: 300 }' }));
}

async function sync(cfg: ResolvedConfig) {
  return syncInline({ config: cfg, pool: hub.pool, clickhouse: ch.client, source: SOURCE, stream: STREAM, batchSize: 300, log: silentLogger });
}

async function letters() {
  const res = await hub.pool.query<{ id: string; source_key: string; stage: string; error_code: string; error_message: string; mapping_version: string; replayed_at: Date | null; replay_run_id: string | null; payload: { status: string; total: string } }>(
    'SELECT * FROM hub.dead_letter ORDER BY id',
  );
  return res.rows;
}

/** Bumps a source row (a later sync reads it again) with new values. */
async function touch(key: string, set: string): Promise<void> {
  await src.pool.query(`UPDATE legacy.orders SET ${set}, updated_at = now() WHERE order_no = $1`, [key]);
}

beforeAll(async () => {
  hub = await scratchDatabase('replay');
  ch = await scratchClickhouse('replay');
  src = await scratchSource('replay', ROWS);
  dir = tempDir('replay');
  // Poison: a status mapping version 1 does not know (3 rows) and a total nothing parses (1 row).
  await src.pool.query(`UPDATE legacy.orders SET status = 'ON_HOLD' WHERE order_no IN ('SO0000010', 'SO0000500', 'SO0001500')`);
  await src.pool.query(`UPDATE legacy.orders SET total = 'N/A' WHERE order_no = 'SO0000777'`);
}, 120_000);

afterAll(async () => {
  await hub?.close();
  await ch?.close();
  await src?.close();
});

describe('dead-letter replay', () => {
  it('a poison record is dead-lettered with its reason and the rest of its batch loads', async () => {
    const run = await sync(await config(1));
    expect(run.read).toBe(ROWS);
    expect(run.failed).toBe(4);
    expect(run.loaded).toBe(ROWS - 4);
    const dead = await letters();
    expect(dead.map((d) => d.source_key).sort()).toEqual(['SO0000010', 'SO0000500', 'SO0000777', 'SO0001500']);
    for (const d of dead) {
      expect(d).toMatchObject({ stage: 'map', error_code: 'MAP_BAD_VALUE', replayed_at: null });
      expect(d.error_message).toMatch(d.source_key === 'SO0000777' ? /total_amount.*N\/A/ : /status.*ON_HOLD/);
      expect(d.mapping_version).toMatch(/legacy_pg\.orders\.yaml@/);
    }
    expect(dead.find((d) => d.source_key === 'SO0000777')!.payload.total).toBe('N/A');
  }, 60_000);

  it('replay with the fixed mapping loads the fixed records, marks them, and keeps the one that fails again', async () => {
    const before = (await letters()).find((d) => d.source_key === 'SO0000777')!;
    const sub = new Redis(stackSettings().services.redis.url);
    const events: CustomerUpdatedEvent[] = [];
    await sub.subscribe(CUSTOMER_UPDATED_CHANNEL);
    sub.on('message', (_channel, text: string) => events.push(JSON.parse(text) as CustomerUpdatedEvent));
    const pub = new Redis(stackSettings().services.redis.url);
    try {
      const cfg = await config(2);
      const summary = await replayDeadLetters({ config: cfg, pool: hub.pool, clickhouse: ch.client, redis: pub, log: silentLogger, filter: {} });
      expect(summary).toMatchObject({ selected: 4, loaded: 3, failedAgain: 1, superseded: 0 });
      expect(summary.streams).toHaveLength(1);
      const runId = summary.streams[0]!.runId;

      const dead = await letters();
      for (const d of dead.filter((x) => x.source_key !== 'SO0000777')) {
        expect(d.replayed_at).toBeInstanceOf(Date);
        expect(Number(d.replay_run_id)).toBe(runId);
      }
      const again = dead.find((d) => d.source_key === 'SO0000777')!;
      expect(again.replayed_at).toBeNull();
      expect(again.error_code).toBe('MAP_BAD_VALUE');
      expect(again.mapping_version).not.toBe(before.mapping_version);
      expect(again.payload).toEqual(before.payload);

      const run = await hub.pool.query(`SELECT mode, trigger, status, records_read, records_written, records_failed FROM hub.sync_run WHERE id = $1`, [runId]);
      expect(run.rows[0]).toEqual({ mode: 'incremental', trigger: 'replay', status: 'succeeded', records_read: '4', records_written: '3', records_failed: '1' });
      // Analysts can tell it from a sync (sync_freshness.sql leaves it out).
      expect(await ch.rows(`SELECT trigger, status, records_read FROM sync_runs_current WHERE run_id = ${runId}`)).toEqual([{ trigger: 'replay', status: 'succeeded', records_read: '4' }]);

      const statuses = await hub.pool.query(`SELECT source_key, status FROM unified."order" WHERE source_key IN ('SO0000010', 'SO0000500', 'SO0001500') ORDER BY 1`);
      expect(statuses.rows.map((r: { status: string }) => r.status)).toEqual(['pending', 'pending', 'pending']);

      await expect.poll(() => events.filter((e) => e.runId === runId).length, { timeout: 5000 }).toBeGreaterThan(0);
      const event = events.find((e) => e.runId === runId)!;
      expect(event).toMatchObject({ type: 'customer.updated', source: SOURCE, stream: STREAM });
      expect(event.customerIds.length).toBeGreaterThan(0);
    } finally {
      sub.disconnect();
      pub.disconnect();
    }
  }, 60_000);

  it('a second replay only looks at what is left; ids narrow it', async () => {
    const cfg = await config(2);
    expect(await replayDeadLetters({ config: cfg, pool: hub.pool, log: silentLogger, filter: { source: 'other' } })).toMatchObject({ selected: 0, streams: [] });
    const id = Number((await letters()).find((d) => d.source_key === 'SO0000777')!.id);
    expect(await replayDeadLetters({ config: cfg, pool: hub.pool, log: silentLogger, filter: { ids: [id + 1000] } })).toMatchObject({ selected: 0 });
    expect(await replayDeadLetters({ config: cfg, pool: hub.pool, log: silentLogger, filter: { ids: [id] } })).toMatchObject({ selected: 1, loaded: 0, failedAgain: 1 });
    expect(await replayDeadLetters({ config: cfg, pool: hub.pool, log: silentLogger, filter: { since: new Date(Date.now() + 60_000) } })).toMatchObject({ selected: 0 });
  }, 60_000);

  it('a letter whose record a later sync loaded is superseded, not loaded over it', async () => {
    await touch('SO0000777', `total = '12.50'`);
    const cfg = await config(2);
    expect((await sync(cfg)).loaded).toBe(1);
    const summary = await replayDeadLetters({ config: cfg, pool: hub.pool, clickhouse: ch.client, log: silentLogger, filter: {} });
    expect(summary).toMatchObject({ selected: 1, loaded: 0, failedAgain: 0, superseded: 1 });
    const total = await hub.pool.query(`SELECT total_amount FROM unified."order" WHERE source_key = 'SO0000777'`);
    expect(total.rows[0].total_amount).toBe('12.50');
    expect((await letters()).every((d) => d.replayed_at !== null)).toBe(true);
  }, 60_000);

  it('of two letters of one record only the newest payload loads; the older asked for alone has the newer replayed in its place', async () => {
    const v1 = await config(1);
    await touch('SO0000042', `status = 'ON_HOLD', total = '1.00'`);
    await sync(v1);
    await touch('SO0000042', `total = '2.00'`);
    await sync(v1);
    const pending = (await letters()).filter((d) => d.replayed_at === null);
    expect(pending.map((d) => d.payload.total)).toEqual(['1.00', '2.00']);

    // Asked for the older one alone: the newer letter is replayed in its place, and the answer says so.
    const [olderId, newerId] = pending.map((d) => Number(d.id)) as [number, number];
    const runs = async () => Number((await hub.pool.query(`SELECT count(*) AS n FROM hub.sync_run`)).rows[0].n);
    const runsBefore = await runs();
    const older = await replayDeadLetters({ config: await config(2), pool: hub.pool, clickhouse: ch.client, log: silentLogger, filter: { ids: [olderId] } });
    expect(older).toMatchObject({ selected: 2, loaded: 1, failedAgain: 0, superseded: 1 });
    expect(older.streams).toMatchObject([{ selected: 2, loaded: 1, superseded: 1, replacedBy: [{ id: olderId, by: newerId }] }]);
    expect((await letters()).filter((d) => d.replayed_at === null)).toEqual([]);
    const row = await hub.pool.query(`SELECT status, total_amount FROM unified."order" WHERE source_key = 'SO0000042'`);
    expect(row.rows[0]).toEqual({ status: 'pending', total_amount: '2.00' });

    // Nothing left: nothing replayed, and no run recorded for it.
    expect(await runs()).toBe(runsBefore + 1);
    const none = await replayDeadLetters({ config: await config(2), pool: hub.pool, clickhouse: ch.client, log: silentLogger, filter: {} });
    expect(none).toEqual({ selected: 0, loaded: 0, failedAgain: 0, superseded: 0, streams: [] });
    expect(await runs()).toBe(runsBefore + 1);
  }, 60_000);

  it('after the replays the unified view and the ClickHouse view hold exactly the source', async () => {
    const expected = await sourceHashes(await config(2));
    const actual = await unifiedHashes(hub.pool);
    expect(hashDiff(expected, actual)).toEqual([]);
    expect(actual.size).toBe(ROWS);
    const [orders] = await ch.rows<{ n: string; keys: string; pending: string }>(
      `SELECT count() AS n, uniqExact(source_key) AS keys, countIf(status = 'pending') AS pending FROM orders_current WHERE source = '${SOURCE}' AND stream = '${STREAM}'`,
    );
    expect(orders).toEqual({ n: String(ROWS), keys: String(ROWS), pending: '4' });
    const total = (await hub.pool.query<{ total: string }>(`SELECT sum(total_amount)::text AS total FROM unified."order"`)).rows[0]!.total;
    const [sum] = await ch.rows<{ total: string }>(`SELECT toString(sum(total_amount)) AS total FROM orders_current WHERE source = '${SOURCE}'`);
    expect(Number(sum!.total)).toBeCloseTo(Number(total), 2);
  }, 60_000);
});
