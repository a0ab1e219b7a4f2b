/**
 * CONTRACT STUB (being implemented): sync runs as analysts see them (ClickHouse `sync_runs`).
 * A run is re-sent as it progresses; the table's version keeps the latest state.
 */
import type { ClickHouseClient } from '@clickhouse/client';

export interface SyncRunRow {
  runId: number;
  source: string;
  stream: string;
  mode: string;
  status: string;
  startedAt: Date;
  finishedAt: Date | null;
  recordsRead: number;
  recordsWritten: number;
  recordsFailed: number;
  errorCode: string | null;
}

/** Sends the run's current state (one row; cheap enough per batch or at the end). */
export async function insertSyncRunRow(client: ClickHouseClient, row: SyncRunRow): Promise<void> {
  void client;
  void row;
}
