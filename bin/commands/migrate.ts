/** `junction migrate`: apply pending PostgreSQL and ClickHouse migrations. */
import type { Command } from 'commander';
import { stackSettings } from '../../config/env.js';
import { migrateAll } from '../../sql/migrate.js';
import { printJson } from '../json-output.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply sql/postgres/NNN_*.sql and sql/clickhouse/NNN_*.sql in order; running it again changes nothing')
    .option('--json', 'print one JSON object {engines}: per engine the migrations applied and the count already applied')
    .action(async (opts: { json?: boolean }) => {
      const results = await migrateAll(stackSettings(), (line) => console.error(`migrate: ${line}`));
      if (opts.json) {
        printJson({ engines: results });
        return;
      }
      for (const r of results) {
        console.log(`${r.engine}: ${r.applied.length} applied, ${r.alreadyApplied} already applied`);
      }
    });
}
