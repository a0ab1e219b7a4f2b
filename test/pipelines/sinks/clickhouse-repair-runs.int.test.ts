/**
 * The sync-run half of repairClickhouse against the real servers: runs sent before ClickHouse
 * migration 003 have trigger '' in `sync_runs`, so a dead-letter replay among them counted as
 * its stream's last success in sync_freshness.sql. The repair re-sends them from
 * hub.sync_run, leaves alone the runs hub.sync_run does not have and the rows written while
 * a transaction was open, and a second repair changes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../config/env.js';
import { repairClickhouse } from '../../../pipelines/sinks/clickhouse-repair.js';
import { pgClockVersion } from '../../../pipelines/sinks/clickhouse.js';
import { sendRunStates, syncRunValues } from '../../../pipelines/sinks/sync-runs.js';
import { scratchClickhouse, type ScratchClickhouse } from '../../helpers/clickhouse.js';
import { scratchDatabase, type ScratchDb } from '../../helpers/unified.js';

const FRESHNESS = fs.readFileSync(path.join(PROJECT_ROOT, 'sql/clickhouse/queries/sync_freshness.sql'), 'utf8').replace(/;\s*$/, '');
const HOUR = 3_600_000;

let db: ScratchDb;
let ch: ScratchClickhouse;

/** A finished run of shop_pg.accounts in hub.sync_run. */
async function run(trigger: string, finishedAt: Date): Promise<number> {
  const { rows } = await db.pool.query(
    `INSERT INTO hub.sync_run (source, stream, mode, status, trigger, started_at, finished_at, records_read)
     VALUES ('shop_pg', 'accounts', 'incremental', 'succeeded', $1, $2::timestamptz - interval '1 minute', $2, 7) RETURNING id`,
    [trigger, finishedAt],
  );
  return Number(rows[0].id);
}

/** A succeeded run's row as versions before migration 003 sent it: no trigger. */
async function sendOldStyle(runId: number, finishedAt: Date, stream = 'accounts'): Promise<void> {
  const row = { runId, source: 'shop_pg', stream, mode: 'incremental', status: 'succeeded', startedAt: new Date(finishedAt.getTime() - 60_000), finishedAt, recordsRead: 7, recordsWritten: 7, recordsFailed: 0, errorCode: null };
  await ch.client.insert({ table: 'sync_runs', values: [syncRunValues(row, await pgClockVersion(db.pool))], format: 'JSONEachRow' });
}

/** shop_pg.accounts in sync_freshness.sql: its last success (epoch seconds) and run count; null when it is not there. */
async function freshness(): Promise<{ last: number | null; runs: number } | null> {
  const rows = await ch.rows<{ last: number | null; runs: string }>(
    `SELECT toUInt32(last_success_at) AS last, runs FROM (${FRESHNESS}) AS f WHERE source = 'shop_pg' AND stream = 'accounts'`,
  );
  return rows.length === 0 ? null : { last: rows[0]!.last, runs: Number(rows[0]!.runs) };
}

const triggers = () => ch.rows<{ run_id: string; stream: string; trigger: string }>(`SELECT toString(run_id) AS run_id, stream, trigger FROM sync_runs_current ORDER BY run_id, stream`);
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

beforeAll(async () => {
  db = await scratchDatabase('ch_repair_runs');
  ch = await scratchClickhouse('ch_repair_runs');
}, 60_000);

afterAll(async () => {
  await ch?.close();
  await db?.close();
});

beforeEach(async () => {
  await db.pool.query('DELETE FROM hub.sync_run');
  await ch.client.command({ query: 'TRUNCATE TABLE sync_runs' });
});

describe('repairClickhouse: sync runs sent before migration 003', () => {
  it('re-sends a replay with no trigger from hub.sync_run, so sync_freshness.sql no longer counts it as the last success', async () => {
    const syncedAt = new Date(Date.now() - 2 * HOUR);
    const replayedAt = new Date(Date.now() - HOUR);
    const sync = await run('cli', syncedAt);
    const replay = await run('replay', replayedAt);
    // The sync was sent before 003 too, then again since (as a resumed run is): its trigger is known.
    await sendOldStyle(sync, syncedAt);
    await sendRunStates(ch.client, db.pool, [sync]);
    await sendOldStyle(replay, replayedAt);
    // Left alone: a run hub.sync_run does not have, and one of the same id as a run it has, in another stream.
    await sendOldStyle(990_001, replayedAt, 'addresses');
    await sendOldStyle(sync, replayedAt, 'orders');
    expect(await freshness()).toEqual({ last: seconds(replayedAt), runs: 2 });

    const summary = await repairClickhouse(db.pool, ch.client);
    expect(summary.syncRuns).toEqual({ resent: 1, missing: 2 });
    expect(await triggers()).toEqual(
      [
        { run_id: String(sync), stream: 'accounts', trigger: 'cli' },
        { run_id: String(sync), stream: 'orders', trigger: '' },
        { run_id: String(replay), stream: 'accounts', trigger: 'replay' },
        { run_id: '990001', stream: 'addresses', trigger: '' },
      ].sort((a, b) => Number(a.run_id) - Number(b.run_id)),
    );
    expect(await freshness()).toEqual({ last: seconds(syncedAt), runs: 1 });

    // The latest version, not a count of rows: a background merge may drop replaced rows meanwhile.
    const rows = await ch.rows(`SELECT toString(max(version)) AS v FROM sync_runs`);
    const again = await repairClickhouse(db.pool, ch.client);
    expect(again.syncRuns).toEqual({ resent: 0, missing: 2 });
    expect(await ch.rows(`SELECT toString(max(version)) AS v FROM sync_runs`)).toEqual(rows);
  });

  it('leaves a run with no trigger alone while a transaction that began before its row was written is open', async () => {
    const replayedAt = new Date(Date.now() - HOUR);
    const replay = await run('replay', replayedAt);
    const tx = await db.pool.connect();
    try {
      await tx.query('BEGIN');
      await tx.query('SELECT 1');
      await sendOldStyle(replay, replayedAt);
      expect((await repairClickhouse(db.pool, ch.client)).syncRuns).toEqual({ resent: 0, missing: 0 });
      expect(await triggers()).toEqual([{ run_id: String(replay), stream: 'accounts', trigger: '' }]);
      await tx.query('COMMIT');
    } finally {
      tx.release();
    }
    expect((await repairClickhouse(db.pool, ch.client)).syncRuns).toEqual({ resent: 1, missing: 0 });
    expect(await triggers()).toEqual([{ run_id: String(replay), stream: 'accounts', trigger: 'replay' }]);
    // A replay is no sync: the stream has none.
    expect(await freshness()).toBeNull();
  });
});

describe('repairClickhouse: sync runs whose final row was lost', () => {
  it('re-sends the runs ClickHouse shows running that hub.sync_run has ended, so sync_freshness.sql sees their success', async () => {
    const finishedAt = new Date(Date.now() - HOUR);
    const ended = await run('cli', finishedAt);
    const { rows } = await db.pool.query(
      `INSERT INTO hub.sync_run (source, stream, mode, status, trigger, started_at) VALUES ('shop_pg', 'accounts', 'incremental', 'running', 'cli', now()) RETURNING id`,
    );
    const running = Number(rows[0].id);
    // Their 'running' rows reached ClickHouse; the ended run's final row did not. Left alone:
    // the run still running, and a run of the ended one's id in another stream.
    const runningRow = (runId: number, stream = 'accounts') =>
      syncRunValues({ runId, source: 'shop_pg', stream, mode: 'incremental', trigger: 'cli', status: 'running', startedAt: new Date(finishedAt.getTime() - 60_000), finishedAt: null, recordsRead: 0, recordsWritten: 0, recordsFailed: 0, errorCode: null }, 0);
    const version = await pgClockVersion(db.pool);
    await ch.client.insert({ table: 'sync_runs', values: [runningRow(ended), runningRow(running), runningRow(ended, 'orders')].map((r) => ({ ...r, version })), format: 'JSONEachRow' });
    expect(await freshness()).toEqual({ last: null, runs: 2 });

    const summary = await repairClickhouse(db.pool, ch.client);
    expect(summary.endedRuns).toBe(1);
    const states = () => ch.rows(`SELECT toString(run_id) AS run_id, stream, status, toUInt32(finished_at) AS finished, toString(records_read) AS read FROM sync_runs_current ORDER BY run_id, stream`);
    expect(await states()).toEqual(
      [
        { run_id: String(ended), stream: 'accounts', status: 'succeeded', finished: seconds(finishedAt), read: '7' },
        { run_id: String(ended), stream: 'orders', status: 'running', finished: 0, read: '0' },
        { run_id: String(running), stream: 'accounts', status: 'running', finished: 0, read: '0' },
      ].sort((a, b) => Number(a.run_id) - Number(b.run_id) || a.stream.localeCompare(b.stream)),
    );
    expect(await freshness()).toEqual({ last: seconds(finishedAt), runs: 2 });

    const latest = await ch.rows(`SELECT toString(max(version)) AS v FROM sync_runs`);
    expect((await repairClickhouse(db.pool, ch.client)).endedRuns).toBe(0);
    expect(await ch.rows(`SELECT toString(max(version)) AS v FROM sync_runs`)).toEqual(latest);
  });
});
