/**
 * `junction analytics repair`: puts right what ClickHouse holds but the unified view does not
 * (pipelines/sinks/clickhouse-repair.ts): customers and orders or tickets under the wrong
 * customer, or gone from PostgreSQL, as batches sent before COMMIT (until 2026-11-23) and
 * unmerges made before they sent their own rows left them; customers whose birthday reads NULL
 * (sent before ClickHouse migration 004) and sync runs with no trigger (before 003). Rows
 * still being written are left alone, so it is safe while syncs run.
 */
import type { Command } from 'commander';
import { stackSettings } from '../../config/env.js';
import { resolveRules } from '../../pipelines/resolve/rules.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { repairClickhouse, type RepairCounts, type RepairSummary } from '../../pipelines/sinks/clickhouse-repair.js';
import { printJson } from '../json-output.js';
import { loadCliConfig } from '../sources.js';
import { parseSince } from './dlq.js';
import { hubPool } from '../../sql/hub-connection.js';

const counts = (c: RepairCounts) => `${c.customers} customers, ${c.orders} orders, ${c.tickets} tickets`;

/** The lines `analytics repair` prints. */
export function formatRepairSummary(s: RepairSummary): string {
  const horizon = new Date(Math.floor(s.horizon / 1000)).toISOString();
  return [
    `checked ${counts(s.checked)} (rows written before ${horizon}, when the oldest open transaction began)`,
    `re-sent ${counts(s.resent)} with what PostgreSQL holds (${s.birthdays} customers for a birthday ClickHouse read as NULL, sent before migration 004)`,
    `tombstoned ${counts(s.tombstoned)} that PostgreSQL does not have`,
    `sync runs with no trigger (sent before migration 003): re-sent ${s.syncRuns.resent} from hub.sync_run, left ${s.syncRuns.missing} it does not have`,
  ].join('\n');
}

export function registerAnalytics(program: Command): void {
  const analytics = program.command('analytics').description("ClickHouse, the analysts' copy of the unified view");

  analytics
    .command('repair')
    .description('compare the customer of every ClickHouse customer, order and ticket row with the unified view, and re-send or tombstone the rows it disagrees with; re-send customers whose birthday ClickHouse lacks and sync runs with no trigger (safe while syncs run)')
    .option('--since <time>', 'only rows last written at or after: ISO-8601 time or a duration back (2h, 7d)', (v) => parseSince(v))
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('--json', 'print the summary as one JSON object')
    .action(async (opts: { since?: Date; config?: string; json?: boolean }) => {
      const rules = resolveRules(await loadCliConfig(opts.config));
      const settings = stackSettings();
      const pool = hubPool(settings.services.postgres.url, { max: 2 });
      const clickhouse = createClickhouseClient(settings);
      let summary: RepairSummary;
      try {
        // Versions are the PostgreSQL clock in microseconds.
        summary = await repairClickhouse(pool, clickhouse, { since: opts.since ? opts.since.getTime() * 1000 : 0, lockStripes: rules.lockStripes });
      } finally {
        await clickhouse.close();
        await pool.end();
      }
      if (opts.json) printJson(summary);
      else console.log(formatRepairSummary(summary));
    });
}
