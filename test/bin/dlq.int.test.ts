/**
 * `junction dlq list | show | replay` through the real CLI, against a scratch hub database
 * (JUNCTION_PG_DATABASE), a scratch ClickHouse database and a scratch source.
 */
import path from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import type { DeadLetterView } from '../../jobs/dead-letters.js';
import type { ReplaySummary } from '../../pipelines/replay.js';
import { syncInline } from '../../pipelines/sync-inline.js';
import { migrateClickhouse } from '../../sql/migrate.js';
import { runCli } from '../helpers/cli.js';
import { SOURCE, STREAM, scratchSource, tempDir, writeSyncConfig, type ScratchSource } from '../helpers/sync-fixture.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

const CH_DB = 'junction_test_dlq';
const ENV = { JUNCTION_PG_DATABASE: 'junction_test_dlq', JUNCTION_CLICKHOUSE_DATABASE: CH_DB, JUNCTION_LOG_LEVEL: 'error' };
let hub: ScratchDb;
let src: ScratchSource;
let dir: string;
let configFile: string;

const dlq = (...args: string[]) => runCli(['dlq', ...args], ENV);

beforeAll(async () => {
  hub = await scratchDatabase('dlq');
  src = await scratchSource('dlq', 500);
  const ch = stackSettings().services.clickhouse.url;
  await migrateClickhouse(ch, CH_DB, path.join(PROJECT_ROOT, 'sql/clickhouse'));
  dir = tempDir('dlq');
  configFile = writeSyncConfig(dir, { sourceUrl: src.url });
  await src.pool.query(`UPDATE legacy.orders SET status = 'ON_HOLD' WHERE order_no IN ('SO0000100', 'SO0000200')`);
  await src.pool.query(`UPDATE legacy.orders SET total = 'lots' WHERE order_no = 'SO0000300'`);
  const run = await syncInline({ config: await loadConfig(configFile), pool: hub.pool, source: SOURCE, stream: STREAM, log: silentLogger });
  expect(run.failed).toBe(3);
}, 120_000);

afterAll(async () => {
  await hub?.close();
  await src?.close();
  const ch = createClient({ url: stackSettings().services.clickhouse.url });
  await ch.command({ query: `DROP DATABASE IF EXISTS ${CH_DB}` }).finally(() => ch.close());
});

describe('junction dlq', () => {
  it('replay without Redis still runs, with one coded warning that events are not published', async () => {
    const env = { ...ENV, JUNCTION_LOG_LEVEL: 'warn', JUNCTION_REDIS_URL: 'redis://:TopSecretRedisPw@127.0.0.1:1' };
    const res = await runCli(['dlq', 'replay', '-c', configFile, '--stream', 'no_such_stream'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('replayed 0 dead letters');
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      code: 'STACK_NOT_RUNNING',
      msg: 'Redis at redis://:***@127.0.0.1:1 does not answer (connect ECONNREFUSED 127.0.0.1:1): start the stack (junction stack up) or set JUNCTION_REDIS_URL; customer.updated events are not published for this replay',
    });
  });

  it('list shows each letter with its stream, key, stage, code and message; filters narrow it', async () => {
    const res = await dlq('list');
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STREAM\s+KEY\s+STAGE\s+CODE\s+MESSAGE\s+CREATED\s+REPLAYED/);
    expect(lines).toHaveLength(4);
    expect(res.stdout).toMatch(/legacy_pg\.orders\s+SO0000300\s+map\s+MAP_BAD_VALUE\s+.*total_amount/);

    const json = await dlq('list', '--json', '--limit', '2', '--source', SOURCE, '--since', '1h');
    expect(json.code, json.stderr).toBe(0);
    const letters = (JSON.parse(json.stdout) as { deadLetters: DeadLetterView[] }).deadLetters;
    expect(letters.map((l) => l.sourceKey)).toEqual(['SO0000300', 'SO0000200']);
    expect(JSON.parse((await dlq('list', '--json', '--stream', 'nope')).stdout)).toEqual({ deadLetters: [] });
    expect((await dlq('list', '--since', 'soon')).code).not.toBe(0);
  }, 60_000);

  it('show prints every field and the raw payload; an unknown id is an error with its code', async () => {
    const id = (JSON.parse((await dlq('list', '--json', '--limit', '1')).stdout) as { deadLetters: DeadLetterView[] }).deadLetters[0]!.id;
    const text = await dlq('show', String(id));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/errorMessage\s+.*lots/);
    expect(text.stdout).toMatch(/payload\n {2}\{\n[^]*\n {4}"order_no": "SO0000300"/);
    const json = JSON.parse((await dlq('show', String(id), '--json')).stdout) as DeadLetterView;
    expect(json).toMatchObject({ id, sourceKey: 'SO0000300', stage: 'map', errorCode: 'MAP_BAD_VALUE', payload: { total: 'lots' } });
    const missing = await dlq('show', String(id + 999));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('SYNC_DEAD_LETTER_NOT_FOUND');
  }, 60_000);

  it('replay of an id that does not exist or a source the config does not declare is refused with its code, replaying nothing', async () => {
    const id = (JSON.parse((await dlq('list', '--json', '--limit', '1')).stdout) as { deadLetters: DeadLetterView[] }).deadLetters[0]!.id;
    const missing = await dlq('replay', '--id', String(id), '--id', String(id + 999), '--config', configFile);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no dead letter ${id + 999} [SYNC_DEAD_LETTER_NOT_FOUND]`);
    const unknown = await dlq('replay', '--source', 'nope', '--config', configFile);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no source named nope; declared: ');
    expect(unknown.stderr).toContain('[CFG_UNKNOWN_REF]');
    const { rows } = await hub.pool.query('SELECT count(*)::int AS n FROM hub.dead_letter WHERE replayed_at IS NOT NULL');
    expect(rows[0].n).toBe(0);
  }, 60_000);

  it('replay after fixing the mapping loads the fixed letters and exits 1 while one still fails', async () => {
    writeSyncConfig(dir, { sourceUrl: src.url, mappingVersion: 2 });
    const res = await dlq('replay', '-c', configFile, '--json');
    expect(res.code, res.stderr).toBe(1);
    const summary = JSON.parse(res.stdout) as ReplaySummary;
    expect(summary).toMatchObject({ selected: 3, loaded: 2, failedAgain: 1, superseded: 0 });
    const loaded = await hub.pool.query(`SELECT count(*)::int AS n FROM unified.source_record WHERE source_key IN ('SO0000100', 'SO0000200')`);
    expect(loaded.rows[0].n).toBe(2);

    const pending = (JSON.parse((await dlq('list', '--pending', '--json')).stdout) as { deadLetters: DeadLetterView[] }).deadLetters;
    expect(pending.map((l) => l.sourceKey)).toEqual(['SO0000300']);

    await src.pool.query(`UPDATE legacy.orders SET total = '3.00' WHERE order_no = 'SO0000300'`);
    await hub.pool.query(`UPDATE hub.dead_letter SET payload = jsonb_set(payload, '{total}', '"3.00"') WHERE source_key = 'SO0000300'`);
    const text = await dlq('replay', '-c', configFile, '--id', String(pending[0]!.id));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('replayed 1 dead letter: 1 loaded, 0 failed again, 0 superseded');
    expect(text.stdout).toMatch(/legacy_pg\.orders \(run \d+\)/);
  }, 60_000);
});
