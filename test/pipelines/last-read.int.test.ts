/**
 * A page that holds one record twice (a change log, offset paging): the batch goes by the
 * key's last read. A newer version that fails the map stage is dead-lettered and the older
 * version of the same page is not loaded over what the hub held, so a replay after the
 * mapping is fixed loads the newest; an older version that fails while the newer one maps
 * leaves no letter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { replayDeadLetters } from '../../pipelines/replay.js';
import { syncInline } from '../../pipelines/sync-inline.js';
import { SOURCE, STREAM, scratchSource, tempDir, writeSyncConfig, type ScratchSource } from '../helpers/sync-fixture.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

let hub: ScratchDb;
let src: ScratchSource;
let dir: string;

const config = (version: 1 | 2) => loadConfig(writeSyncConfig(dir, { sourceUrl: src.url, mappingVersion: version, pipelines: '{ batch_size: 100 }' }));
const sync = async (version: 1 | 2) => syncInline({ config: await config(version), pool: hub.pool, source: SOURCE, stream: STREAM, batchSize: 100, log: silentLogger });
const order = async (key: string) =>
  (await hub.pool.query<{ status: string; total_amount: string; synced_at: Date }>(
    `SELECT o.status, o.total_amount, sr.synced_at FROM unified."order" o JOIN unified.source_record sr USING (source, stream, source_key) WHERE o.source_key = $1`,
    [key],
  )).rows[0]!;
const letters = async () =>
  (await hub.pool.query<{ source_key: string; payload: { status: string; total: string } }>('SELECT source_key, payload FROM hub.dead_letter WHERE replayed_at IS NULL ORDER BY id')).rows;

/** Reads `key` twice in the next page: first with `first`, then (a second later) with `then`. */
async function twice(key: string, first: string, then: string): Promise<void> {
  const latest = '(SELECT max(updated_at) FROM legacy.orders)';
  await src.pool.query(`UPDATE legacy.orders SET ${first}, updated_at = ${latest} + interval '1 second' WHERE order_no = $1`, [key]);
  await src.pool.query(`INSERT INTO legacy.orders SELECT order_no, customer_email, status, total, created_at, updated_at + interval '1 second' FROM legacy.orders WHERE order_no = $1`, [key]);
  await src.pool.query(`UPDATE legacy.orders SET ${then} WHERE order_no = $1 AND updated_at = ${latest}`, [key]);
}

beforeAll(async () => {
  hub = await scratchDatabase('last_read');
  src = await scratchSource('last_read', 10);
  dir = tempDir('last-read');
  await sync(1);
  await src.pool.query('ALTER TABLE legacy.orders DROP CONSTRAINT orders_pkey');
}, 60_000);

afterAll(async () => {
  await hub?.close();
  await src?.close();
});

describe('a record read twice in one page', () => {
  it('the newer read failing: its letter is kept, the older read is not loaded, and a replay loads the newest', async () => {
    const before = await order('SO0000005');
    await twice('SO0000005', `status = 'PAID', total = '1.00'`, `status = 'ON_HOLD', total = '2.00'`);
    expect(await sync(1)).toMatchObject({ read: 2, loaded: 0, failed: 1 });
    expect((await letters()).map((d) => [d.source_key, d.payload.status, d.payload.total])).toEqual([['SO0000005', 'ON_HOLD', '2.00']]);
    expect(await order('SO0000005')).toEqual(before);

    const replay = await replayDeadLetters({ config: await config(2), pool: hub.pool, log: silentLogger, filter: {} });
    expect(replay).toMatchObject({ selected: 1, loaded: 1, superseded: 0 });
    expect(await order('SO0000005')).toMatchObject({ status: 'pending', total_amount: '2.00' });
  }, 60_000);

  it('the older read failing: the newer one loads and no letter is written', async () => {
    await twice('SO0000007', `status = 'ON_HOLD', total = '3.00'`, `status = 'PAID', total = '4.00'`);
    expect(await sync(1)).toMatchObject({ read: 2, loaded: 1, failed: 0 });
    expect(await letters()).toEqual([]);
    expect(await order('SO0000007')).toMatchObject({ status: 'paid', total_amount: '4.00' });
  }, 60_000);
});
