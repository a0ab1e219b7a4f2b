/**
 * Replay loads its chunk as a sync loads a batch: a letter whose mapped record PostgreSQL
 * refuses for its data fails again alone (ID_LOAD_REFUSED, kept for the next replay) and
 * the chunk's other letters load. The scratch hub refuses order SO2 with a CHECK constraint
 * (SQLSTATE 23514): a stand-in for any value the map stage and the load gate let through and
 * PostgreSQL does not take.
 * Nor does ClickHouse being away stop a replay: as a sync, it replays every chunk, leaves the
 * rows it could not send in the outbox and reports the failure in its answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackSettings } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { writeDeadLetters } from '../../pipelines/dead-letter.js';
import { replayDeadLetters } from '../../pipelines/replay.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { SOURCE, STREAM, tempDir, writeSyncConfig } from '../helpers/sync-fixture.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

let hub: ScratchDb;

const order = (no: string, createdAt: string) => ({
  order_no: no, customer_email: `${no.toLowerCase()}@example.com`, status: 'PAID', total: '10.5', created_at: createdAt, updated_at: '2025-01-01T00:00:00Z',
});

beforeAll(async () => {
  hub = await scratchDatabase('replay_refused');
  await hub.pool.query(`ALTER TABLE unified."order" ADD CONSTRAINT refuses_so2 CHECK (order_no <> 'SO2')`);
});

afterAll(async () => {
  await hub?.close();
});

describe('dead-letter replay of a record PostgreSQL refuses', () => {
  it('fails that letter again with ID_LOAD_REFUSED and loads the rest of the chunk', async () => {
    // The source is never read: replay maps the stored payloads.
    const config = await loadConfig(writeSyncConfig(tempDir('replay-refused'), { sourceUrl: 'postgres://nobody@127.0.0.1:1/none', mappingVersion: 2 }));
    const raws = [order('SO1', '2025-01-01T10:00:00Z'), order('SO2', '2025-01-01T11:00:00Z'), order('SO3', '2025-01-02T10:00:00Z')];
    await writeDeadLetters(hub.pool, null, raws.map((raw) => ({ source: SOURCE, stream: STREAM, sourceKey: raw.order_no, stage: 'map', code: 'MAP_BAD_VALUE', message: 'status ON_HOLD', raw })));

    const summary = await replayDeadLetters({ config, pool: hub.pool, log: silentLogger, filter: {} });

    expect({ loaded: summary.loaded, failedAgain: summary.failedAgain, error: summary.streams[0]!.error }).toEqual({ loaded: 2, failedAgain: 1, error: undefined });
    const letters = await hub.pool.query<{ source_key: string; stage: string; error_code: string; error_message: string; replayed: boolean }>(
      'SELECT source_key, stage, error_code, error_message, replayed_at IS NOT NULL AS replayed FROM hub.dead_letter ORDER BY source_key',
    );
    expect(letters.rows.map((l) => [l.source_key, l.replayed])).toEqual([['SO1', true], ['SO2', false], ['SO3', true]]);
    expect(letters.rows[1]).toMatchObject({ stage: 'load', error_code: 'ID_LOAD_REFUSED', error_message: expect.stringMatching(/refuses_so2.*SQLSTATE 23514/) });
    const orders = await hub.pool.query<{ source_key: string }>('SELECT source_key FROM unified."order" ORDER BY source_key');
    expect(orders.rows.map((o) => o.source_key)).toEqual(['SO1', 'SO3']);
  });
});

describe('dead-letter replay with ClickHouse away', () => {
  it('replays every chunk, ends its run succeeded and reports the failure; the unsent rows stay in the outbox', async () => {
    const config = await loadConfig(writeSyncConfig(tempDir('replay-ch-down'), { sourceUrl: 'postgres://nobody@127.0.0.1:1/none', mappingVersion: 2 }));
    const keys = ['SO10', 'SO11', 'SO12', 'SO13', 'SO14'];
    const raws = keys.map((no, i) => order(no, `2025-01-03T0${i}:00:00Z`));
    await writeDeadLetters(hub.pool, null, raws.map((raw) => ({ source: SOURCE, stream: STREAM, sourceKey: raw.order_no, stage: 'map', code: 'MAP_BAD_VALUE', message: 'status ON_HOLD', raw })));
    const ids = (await hub.pool.query<{ id: string }>('SELECT id FROM hub.dead_letter WHERE source_key = ANY($1) ORDER BY id', [keys])).rows.map((r) => Number(r.id));
    // Nothing listens on port 1: every send fails at once.
    const down = createClickhouseClient(stackSettings({ ...process.env, JUNCTION_CLICKHOUSE_URL: 'http://127.0.0.1:1' }), { requestTimeoutMs: 2000 });
    try {
      const summary = await replayDeadLetters({ config, pool: hub.pool, clickhouse: down, log: silentLogger, filter: { ids }, chunkSize: 2 });

      expect(summary).toMatchObject({ selected: 5, loaded: 5, failedAgain: 0, superseded: 0 });
      const [stream] = summary.streams;
      expect(stream!.error).toBeUndefined();
      expect(stream!.clickhouse).toEqual({ code: 'SYNC_CLICKHOUSE_FAILED', message: expect.stringMatching(/ClickHouse/) });
      const run = await hub.pool.query('SELECT trigger, status, records_read, records_written, error_code FROM hub.sync_run WHERE id = $1', [stream!.runId]);
      expect(run.rows).toEqual([{ trigger: 'replay', status: 'succeeded', records_read: '5', records_written: '5', error_code: null }]);
      const letters = await hub.pool.query<{ replay_run_id: string | null }>('SELECT replay_run_id FROM hub.dead_letter WHERE id = ANY($1) ORDER BY id', [ids]);
      expect(letters.rows.map((l) => Number(l.replay_run_id))).toEqual(ids.map(() => stream!.runId));
      const orders = await hub.pool.query<{ source_key: string }>('SELECT source_key FROM unified."order" WHERE source_key = ANY($1) ORDER BY source_key', [keys]);
      expect(orders.rows.map((o) => o.source_key)).toEqual(keys);
      // Each chunk's entry (3 chunks of at most 2 letters) waits for the stream's next sync.
      const outbox = await hub.pool.query('SELECT run_id FROM hub.clickhouse_outbox WHERE source = $1 AND stream = $2', [SOURCE, STREAM]);
      expect(outbox.rows.map((r: { run_id: string }) => Number(r.run_id))).toEqual([stream!.runId, stream!.runId, stream!.runId]);
    } finally {
      await down.close();
    }
  }, 30_000);
});
