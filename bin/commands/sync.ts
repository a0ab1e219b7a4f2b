/**
 * `junction sync <source>.<stream> [--full] [--inline] [--json]`: runs extract → map →
 * resolve → load for one stream in this process (the queued mode on BullMQ workers comes with
 * the pipelines), with live progress on a terminal and a summary at the end.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import pg from 'pg';
import { stackSettings } from '../../config/env.js';
import { createLogger } from '../../config/log.js';
import type { SyncProgress } from '../../pipelines/sync-inline.js';
import { syncInline } from '../../pipelines/sync-inline.js';
import { loadCliConfig, parseStreamRef } from '../sources.js';
import { positiveInt } from '../options.js';

interface SyncCliOptions {
  full?: boolean;
  inline?: boolean;
  batchSize: number;
  config?: string;
  json?: boolean;
}

export function registerSync(program: Command): void {
  program
    .command('sync')
    .argument('<source.stream>', 'the stream to sync, e.g. shop_pg.accounts')
    .description('sync one source stream into the unified view (extract, map, resolve, load), batch by batch')
    .option('--full', 'read the whole stream from the beginning instead of after the checkpoint')
    .option('--inline', 'run in this process (the only mode until sync workers exist)')
    .option('--batch-size <n>', 'records per batch', positiveInt, 1000)
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('--json', 'print the summary as JSON')
    .action(async (ref: string, opts: SyncCliOptions) => {
      const config = await loadCliConfig(opts.config);
      const { source, stream } = parseStreamRef(config, ref);
      const pool = new pg.Pool({ connectionString: stackSettings().services.postgres.url, max: 4 });
      const log = createLogger({ secrets: config, level: process.env.JUNCTION_LOG_LEVEL ?? 'warn' });
      const tty = Boolean(process.stderr.isTTY) && !opts.json;
      const bar = tty
        ? new cliProgress.SingleBar(
            { format: `${ref} | {value} read, {loaded} loaded, {unchanged} unchanged, {failed} failed | {rate} rec/s | {duration_formatted}`, stream: process.stderr, hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      const started = Date.now();
      bar?.start(0, 0, { loaded: 0, unchanged: 0, failed: 0, rate: 0 });
      const onBatch = (p: SyncProgress) => {
        const rate = Math.round(p.read / Math.max(0.001, (Date.now() - started) / 1000));
        bar?.setTotal(p.read);
        bar?.update(p.read, { loaded: p.loaded, unchanged: p.unchanged, failed: p.failed, rate });
      };
      try {
        const summary = await syncInline({ config, pool, source, stream, mode: opts.full ? 'full' : 'incremental', batchSize: opts.batchSize, log, onBatch });
        bar?.stop();
        if (opts.json) {
          console.log(JSON.stringify(summary, null, 2));
          return;
        }
        console.log(
          `${ref}: run ${summary.runId} (${summary.mode}) read ${summary.read} records in ${summary.batches} batches, ${(summary.durationMs / 1000).toFixed(1)} s: ` +
            `${summary.loaded} loaded, ${summary.unchanged} unchanged, ${summary.failed} dead-lettered; ` +
            `${summary.customersCreated} customers created, ${summary.merged} merged; checkpoint ${JSON.stringify(summary.checkpoint)}`,
        );
      } finally {
        bar?.stop();
        await pool.end();
      }
    });
}
