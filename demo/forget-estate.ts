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

/** Unified view and hub tables derived from the estate's records. */
const POSTGRES_TABLES = [
  'unified.customer_attribute', 'unified.merge_log', 'unified.crm_profile', 'unified.ticket', 'unified."order"',
  'unified.source_record', 'unified.mapping_origin', 'unified.identity_capped', 'unified.customer_identity', 'unified.customer',
  'hub.checkpoint', 'hub.dead_letter',
];

/** ClickHouse tables fed by syncs (chat tables and sync runs are not the estate's). */
const CLICKHOUSE_TABLES = ['orders', 'tickets', 'customers'];

export async function forgetEstate(db: pg.ClientBase | pg.Pool, clickhouse: ClickHouseClient): Promise<void> {
  await db.query(`TRUNCATE ${POSTGRES_TABLES.join(', ')}`);
  for (const table of CLICKHOUSE_TABLES) await clickhouse.command({ query: `TRUNCATE TABLE ${table}` });
}
