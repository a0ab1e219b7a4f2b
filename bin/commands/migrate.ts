/** `junction migrate`: apply pending PostgreSQL and ClickHouse migrations. */
import path from 'node:path';
import type { Command } from 'commander';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import type { StackSettings } from '../../config/env.js';
import type { MigrationResult } from '../../sql/migrate.js';
import { migrateClickhouse, migratePostgres } from '../../sql/migrate.js';

/** Runs both engines' migrations against the hub's servers (shared by `demo` and tests). */
export async function migrateAll(settings: StackSettings, log: (line: string) => void = () => undefined): Promise<MigrationResult[]> {
  const sqlDir = path.join(PROJECT_ROOT, 'sql');
  return [
    await migratePostgres(settings.services.postgres.url, path.join(sqlDir, 'postgres'), log),
    await migrateClickhouse(settings.services.clickhouse.url, settings.clickhouseDatabase, path.join(sqlDir, 'clickhouse'), log),
  ];
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply sql/postgres/NNN_*.sql and sql/clickhouse/NNN_*.sql in order; running it again changes nothing')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const results = await migrateAll(stackSettings(), (line) => console.error(`migrate: ${line}`));
      if (opts.json) {
        console.log(JSON.stringify(results, null, 2));
        return;
      }
      for (const r of results) {
        console.log(`${r.engine}: ${r.applied.length} applied, ${r.alreadyApplied} already applied`);
      }
    });
}
