/**
 * What the ClickHouse tests share: a scratch ClickHouse database of their own with the
 * committed migrations applied (never the hub's `junction`), and one batch applied to the
 * unified view with its rows sent to ClickHouse inside the batch's transaction, as the
 * sync does it.
 */
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { applyBatch, type BatchResult } from '../../pipelines/load/apply-batch.js';
import type { ResolveRules } from '../../pipelines/resolve/rules.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { clickhouseRowsForBatch, insertClickhouseRows } from '../../pipelines/sinks/clickhouse.js';
import type { MappedRecord } from '../../pipelines/types.js';
import { migrateClickhouse } from '../../sql/migrate.js';
import { inTx } from './unified.js';

export interface ScratchClickhouse {
  database: string;
  client: ClickHouseClient;
  /** Runs a query and returns its rows (JSONEachRow: UInt64 as strings, Decimal as numbers). */
  rows<T = Record<string, unknown>>(query: string): Promise<T[]>;
  /** Drops the database and closes the client. */
  close(): Promise<void>;
}

/** Creates `junction_test_<name>` afresh on the stack's ClickHouse and applies every committed migration. */
export async function scratchClickhouse(name: string): Promise<ScratchClickhouse> {
  const settings = stackSettings();
  const database = `junction_test_${name}`;
  const admin = createClickhouseClient(settings, { database: 'default' });
  try {
    await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  } finally {
    await admin.close();
  }
  await migrateClickhouse(settings.services.clickhouse.url, database, path.join(PROJECT_ROOT, 'sql', 'clickhouse'));
  const client = createClickhouseClient(settings, { database });
  return {
    database,
    client,
    rows: async <T>(query: string) => (await client.query({ query, format: 'JSONEachRow' })).json<T>(),
    close: async () => {
      await client.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
      await client.close();
    },
  };
}

/** Resolves and loads `records` and sends the batch's ClickHouse rows before COMMIT. */
export async function applyAndSend(pool: pg.Pool, client: ClickHouseClient, records: readonly MappedRecord[], rules: ResolveRules): Promise<BatchResult> {
  return inTx(pool, async (tx) => {
    const result = await applyBatch(tx, records, rules);
    await insertClickhouseRows(client, await clickhouseRowsForBatch(tx, result));
    return result;
  });
}
