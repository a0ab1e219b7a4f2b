/**
 * When the demo (re)fills the estate, what the hub derived from the previous one is wrong:
 * its checkpoints sit at the old data's last change, so an incremental sync of the new data
 * would read almost nothing, and the unified view and analytics would mix both estates.
 * `forgetEstate` empties that derived state — the unified view, checkpoints, dead letters
 * and the analytics tables of synced records — so the demo's first sync starts from scratch.
 *
 * Kept: sync run history, schedules, agents and chat (conversations keep their customer ids;
 * ids are never reused, so an old link cannot point at a different person).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';

/** Hub tables derived from the estate's records, besides every table of the `unified` schema. */
const HUB_TABLES = ['hub.checkpoint', 'hub.dead_letter'];

/** ClickHouse tables fed by syncs (chat tables and sync runs are not the estate's). */
const CLICKHOUSE_TABLES = ['orders', 'tickets', 'customers'];

/** Every table of the `unified` schema, quoted: a table added to the view later is not left behind. */
export async function unifiedTables(db: pg.ClientBase | pg.Pool): Promise<string[]> {
  const { rows } = await db.query<{ t: string }>(`SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = 'unified'`);
  return rows.map((r) => r.t);
}

export async function forgetEstate(db: pg.ClientBase | pg.Pool, clickhouse: ClickHouseClient): Promise<void> {
  await db.query(`TRUNCATE ${[...(await unifiedTables(db)), ...HUB_TABLES].join(', ')}`);
  for (const table of CLICKHOUSE_TABLES) await clickhouse.command({ query: `TRUNCATE TABLE ${table}` });
}
