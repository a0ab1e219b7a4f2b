/**
 * `junction read <source>.<stream>`: a data engineer's first look at a source — records
 * read through the connector exactly as a sync would see them, nothing written.
 */
import type { Command } from 'commander';
import type { Checkpoint, SourceRecord } from '../../connectors/types.js';
import { loadCliConfig, openSource, parseStreamRef } from '../sources.js';
import { positiveInt } from '../options.js';

interface ReadOptions {
  config?: string;
  limit: number;
  since?: string;
  after?: string;
  batchSize?: number;
  json?: boolean;
}

/** `--since X` reads from cursor X inclusive; `--after '{"cursor":…,"key":…}'` resumes a checkpoint. */
function startingPoint(opts: ReadOptions): Checkpoint | null {
  if (opts.after) {
    const parsed = JSON.parse(opts.after) as Checkpoint;
    return { cursor: parsed.cursor ?? null, key: parsed.key ?? null };
  }
  if (opts.since !== undefined) return { cursor: opts.since, key: null };
  return null;
}

export function registerRead(program: Command): void {
  program
    .command('read')
    .argument('<source.stream>', 'what to read, e.g. tickets_php.tickets')
    .description('read records from a source stream through its connector (writes nothing)')
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('-n, --limit <n>', 'stop after this many records', positiveInt, 20)
    .option('--since <cursor>', 'start at this cursor value (inclusive), e.g. "2026-01-01T00:00:00Z"')
    .option('--after <checkpoint>', 'resume strictly after a checkpoint, as printed at the end: {"cursor":…,"key":…}')
    .option('--batch-size <n>', 'records per batch', positiveInt)
    .option('--json', 'print one JSON array of the records')
    .action(async (ref: string, opts: ReadOptions) => {
      const config = await loadCliConfig(opts.config);
      const { source, stream } = parseStreamRef(config, ref);
      const connector = openSource(config, source);
      const records: SourceRecord[] = [];
      let checkpoint: Checkpoint | null = null;
      try {
        const batches = connector.read(stream, startingPoint(opts), { limit: opts.limit, batchSize: opts.batchSize ?? Math.min(opts.limit, 500) });
        for await (const batch of batches) {
          for (const record of batch.records) {
            if (records.length >= opts.limit) break;
            records.push(record);
            if (!opts.json) console.log(JSON.stringify(record, null, 2));
          }
          checkpoint = batch.checkpoint;
          if (records.length >= opts.limit) break;
        }
      } finally {
        await connector.close();
      }
      if (opts.json) console.log(JSON.stringify(records, null, 2));
      else console.error(`${records.length} record(s) from ${source}.${stream}; checkpoint: ${JSON.stringify(checkpoint)}`);
    });
}
