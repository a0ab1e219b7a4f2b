/**
 * CONTRACT STUB (being implemented): the ClickHouse feed of a batch. Rows are built inside
 * the batch's PostgreSQL transaction (they need the resolved customers) and inserted before
 * it commits: a crash after the insert re-sends the batch, which the ReplacingMergeTree
 * versions and the analyst views make harmless.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import type { BatchResult } from '../load/apply-batch.js';

/** The rows of one batch, per ClickHouse table. */
export type ClickhouseRows = Record<string, Record<string, unknown>[]>;

/** Builds the batch's rows (orders, lines, tickets, customer dimension) from what it wrote. */
export async function clickhouseRowsForBatch(tx: pg.ClientBase, result: BatchResult): Promise<ClickhouseRows> {
  void tx;
  void result;
  return {};
}

/** Inserts rows table by table, one batched insert each. */
export async function insertClickhouseRows(client: ClickHouseClient, rows: ClickhouseRows): Promise<void> {
  void client;
  void rows;
}
