/**
 * CONTRACT STUB (being implemented): `junction dlq replay` — stored dead-letter payloads
 * re-run through the current mapping, resolved and loaded; replayed letters are marked.
 */
import type pg from 'pg';
import type { ClickHouseClient } from '@clickhouse/client';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../config/log.js';

export interface ReplayFilter {
  source?: string;
  stream?: string;
  /** Only letters created at or after this time. */
  since?: Date;
  /** Only these dead-letter ids. */
  ids?: number[];
}

export interface ReplaySummary {
  /** Letters looked at. */
  selected: number;
  /** Letters whose record now loaded (marked replayed). */
  loaded: number;
  /** Letters that failed again (kept, with the new error). */
  failedAgain: number;
}

export interface ReplayOptions {
  config: ResolvedConfig;
  pool: pg.Pool;
  clickhouse?: ClickHouseClient;
  log: Logger;
  filter: ReplayFilter;
}

export async function replayDeadLetters(options: ReplayOptions): Promise<ReplaySummary> {
  void options;
  throw new Error('not implemented yet');
}
