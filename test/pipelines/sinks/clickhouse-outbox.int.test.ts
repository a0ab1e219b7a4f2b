/**
 * The ClickHouse outbox against the real servers: a sync whose ClickHouse is down still
 * commits every batch (the unified view stays current) and keeps what it owes, ending with
 * SYNC_CLICKHOUSE_FAILED; a run that cannot send what an earlier one owes syncs anyway; the
 * stream's next run with ClickHouse back sends it all;
 * an entry is read as the view is when it is sent (entries sent out of order leave the
 * latest state); a send waits for its turn among row builds; a sent entry is gone.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { stackSettings } from '../../../config/env.js';
import { isJunctionError } from '../../../config/errors.js';
import { loadConfig } from '../../../config/load.js';
import { silentLogger } from '../../../config/log.js';
import { applyBatch } from '../../../pipelines/load/apply-batch.js';
import { BUILD_TURN, batchSelection } from '../../../pipelines/sinks/clickhouse.js';
import { createClickhouseClient } from '../../../pipelines/sinks/clickhouse-client.js';
import { enqueueRows, sendEntry } from '../../../pipelines/sinks/clickhouse-outbox.js';
import { syncInline } from '../../../pipelines/sync-inline.js';
import { scratchClickhouse, type ScratchClickhouse } from '../../helpers/clickhouse.js';
import { SOURCE, STREAM, scratchSource, tempDir, writeSyncConfig, type ScratchSource } from '../../helpers/sync-fixture.js';
import { inTx, mapped, scratchDatabase, testRules, type ScratchDb } from '../../helpers/unified.js';

const ROWS = 900;
const rules = testRules();
let hub: ScratchDb;
let ch: ScratchClickhouse;
let src: ScratchSource;
let dir: string;

const outboxCount = async () => Number((await hub.pool.query('SELECT count(*) AS n FROM hub.clickhouse_outbox')).rows[0].n);

function order(key: string, status: string) {
  return mapped(`orders_soap/orders/${key}`, {
    target: 'order',
    fields: { order_no: key, status, total_amount: '10', currency: 'CNY', lines: [], ordered_at: '2025-03-31T17:30:00.000Z' },
    keys: [['phone', '+8613900000009']],
  });
}

/** Loads `records` in a committed transaction with its outbox entry; returns the entry's id. */
async function commitBatch(records: ReturnType<typeof order>[]): Promise<number> {
  return inTx(hub.pool, async (tx) => (await enqueueRows(tx, 'orders_soap', 'orders', null, batchSelection(await applyBatch(tx, records, rules))))!);
}

beforeAll(async () => {
  hub = await scratchDatabase('ch_outbox');
  ch = await scratchClickhouse('ch_outbox');
  src = await scratchSource('ch_outbox', ROWS);
  dir = tempDir('ch_outbox');
}, 120_000);

afterAll(async () => {
  await hub?.close();
  await ch?.close();
  await src?.close();
});

beforeEach(async () => {
  await hub.reset();
  await hub.pool.query('TRUNCATE hub.clickhouse_outbox, hub.checkpoint');
  for (const table of ['orders', 'customers']) await ch.client.command({ query: `TRUNCATE TABLE ${table}` });
});

describe('clickhouse outbox', () => {
  it('a sync whose ClickHouse is down commits all its batches and keeps what it owes; the next run sends it', async () => {
    const config = await loadConfig(writeSyncConfig(dir, { sourceUrl: src.url, mappingVersion: 1, pipelines: '{ batch_size: 300 }' }));
    const base = stackSettings();
    // Port 9 (discard) on loopback: nothing listens there.
    const down = createClickhouseClient({ ...base, services: { ...base.services, clickhouse: { ...base.services.clickhouse, url: 'http://127.0.0.1:9' } } }, { requestTimeoutMs: 5_000 });
    const sync = (clickhouse: typeof down) => syncInline({ config, pool: hub.pool, clickhouse, source: SOURCE, stream: STREAM, batchSize: 300, log: silentLogger });
    const committed = async () => Number((await hub.pool.query('SELECT count(*) AS n FROM unified."order"')).rows[0].n);
    try {
      const failed = await sync(down).catch((e: unknown) => e);
      expect(isJunctionError(failed) && [failed.code, failed.retryable]).toEqual(['SYNC_CLICKHOUSE_FAILED', true]);
      // Every batch committed and left its entry; nothing reached ClickHouse.
      expect(await committed()).toBe(ROWS);
      expect(await outboxCount()).toBe(ROWS / 300);
      // A new source row, and ClickHouse still down: the next run cannot send what is owed, syncs the row anyway.
      await src.pool.query(`UPDATE legacy.orders SET status = 'COMPLETED', updated_at = now() WHERE order_no = 'SO0000001'`);
      const again = await sync(down).catch((e: unknown) => e);
      expect(isJunctionError(again) && again.code).toBe('SYNC_CLICKHOUSE_FAILED');
      expect((await hub.pool.query(`SELECT status FROM unified."order" WHERE order_no = 'SO0000001'`)).rows).toEqual([{ status: 'delivered' }]);
      expect(await outboxCount()).toBe(ROWS / 300 + 1);
    } finally {
      await down.close();
    }
    expect(await ch.rows('SELECT count() AS n FROM orders')).toEqual([{ n: '0' }]);

    const run = await sync(ch.client);
    expect(run.read).toBe(0);
    expect(await outboxCount()).toBe(0);
    expect(await ch.rows('SELECT count() AS n, uniqExact(source_key) AS k FROM orders_current')).toEqual([{ n: String(ROWS), k: String(ROWS) }]);
  }, 60_000);

  it('reads an entry as the view is when it is sent: entries sent out of order leave the latest state', async () => {
    const paid = await commitBatch([order('A1', 'paid')]);
    const shipped = await commitBatch([order('A1', 'shipped')]);
    expect(await sendEntry(hub.pool, ch.client, shipped)).toBe(true);
    expect(await sendEntry(hub.pool, ch.client, paid)).toBe(true);
    expect(await ch.rows(`SELECT status FROM orders_current WHERE source_key = 'A1'`)).toEqual([{ status: 'shipped' }]);
    expect(await ch.rows(`SELECT count() AS n FROM orders`)).toEqual([{ n: '2' }]);
    // A sent entry is gone: sending it again sends nothing.
    expect(await outboxCount()).toBe(0);
    expect(await sendEntry(hub.pool, ch.client, paid)).toBe(false);
  });

  it('a send waits for its turn among row builds', async () => {
    const id = await commitBatch([order('B1', 'paid')]);
    const holder = new pg.Client({ connectionString: hub.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [...BUILD_TURN]);
      let done = false;
      const sending = sendEntry(hub.pool, ch.client, id).then((sent) => (done = sent));
      await new Promise((r) => setTimeout(r, 500));
      expect(done).toBe(false);
      await holder.query('SELECT pg_advisory_unlock($1, $2)', [...BUILD_TURN]);
      await sending;
      expect(done).toBe(true);
    } finally {
      await holder.end();
    }
    expect(await ch.rows(`SELECT status FROM orders_current WHERE source_key = 'B1'`)).toEqual([{ status: 'paid' }]);
  });
});
