/**
 * `junction read <source>.<stream>`: a data engineer's first look at a source — records
 * read through the connector exactly as a sync would see them, nothing written.
 */
import type { Command } from 'commander';
import * as z from 'zod';
import { JunctionError } from '../../config/errors.js';
import type { Checkpoint, SourceRecord } from '../../connectors/types.js';
import { CURSOR_FORMS, cursorKind } from '../../connectors/cursor-value.js';
import { streamBatchSizeOf } from '../../connectors/fields.js';
import { printJson } from '../json-output.js';
import { loadCliConfig, openSource, parseStreamRef } from '../sources.js';
import { MAX_BATCH_SIZE, positiveInt, positiveIntUpTo } from '../options.js';

interface ReadOptions {
  config?: string;
  limit: number;
  since?: string;
  after?: string;
  batchSize?: number;
  json?: boolean;
}

const scalar = z.union([z.string(), z.number(), z.null()]).default(null);
/** A checkpoint as `read` prints it; a missing part is null, as before. */
const checkpointSchema = z.strictObject({ cursor: scalar, key: scalar });

/**
 * `--since X` reads from cursor X inclusive; `--after '{"cursor":…,"key":…}'` resumes a
 * checkpoint. Both are checked here: left to the connectors, a bad value was a query error
 * on one source, a SOAP fault on another and an empty result on MongoDB.
 */
export function startingPoint(opts: Pick<ReadOptions, 'since' | 'after'>): Checkpoint | null {
  if (opts.after !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(opts.after);
    } catch (err) {
      throw new JunctionError('CONN_CURSOR', `--after is not JSON (${(err as Error).message}): expected a checkpoint as read prints it, {"cursor":…,"key":…}`, { cause: err });
    }
    const parsed = checkpointSchema.safeParse(json);
    if (!parsed.success) {
      throw new JunctionError('CONN_CURSOR', `--after ${opts.after} is not a checkpoint: expected {"cursor":…,"key":…} whose values are strings, numbers or null`);
    }
    // No source stores U+0000 in a cursor or key (PostgreSQL text cannot hold it): a query error otherwise.
    if ([parsed.data.cursor, parsed.data.key].some((v) => typeof v === 'string' && v.includes('\u0000'))) {
      throw new JunctionError('CONN_CURSOR', `--after ${JSON.stringify(opts.after)} holds U+0000, which no cursor or key can hold`);
    }
    return parsed.data;
  }
  if (opts.since !== undefined) {
    if (!cursorKind(opts.since)) throw new JunctionError('CONN_CURSOR', `--since ${JSON.stringify(opts.since)} is not a cursor value: expected ${CURSOR_FORMS}`);
    return { cursor: opts.since, key: null };
  }
  return null;
}

export function registerRead(program: Command): void {
  program
    .command('read')
    .argument('<source.stream>', 'what to read, e.g. tickets_php.tickets')
    .description('read records from a source stream through its connector (writes nothing)')
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('-n, --limit <n>', 'stop after this many records', positiveInt, 20)
    .option('--since <cursor>', 'start at this cursor value (inclusive): an ISO-8601 date or date-time, e.g. "2026-01-01T00:00:00Z", or a number')
    .option('--after <checkpoint>', 'resume strictly after a checkpoint, as printed at the end: {"cursor":…,"key":…}')
    .option('--batch-size <n>', `records per batch, at most ${MAX_BATCH_SIZE}`, positiveIntUpTo(MAX_BATCH_SIZE))
    .option('--json', 'print one JSON object {source, stream, records, checkpoint}; the checkpoint is what --after takes')
    .action(async (ref: string, opts: ReadOptions) => {
      const config = await loadCliConfig(opts.config);
      const { source, stream } = parseStreamRef(config, ref);
      const start = startingPoint(opts);
      const connector = openSource(config, source);
      const records: SourceRecord[] = [];
      let checkpoint: Checkpoint | null = null;
      try {
        const batches = connector.read(stream, start, { limit: opts.limit, batchSize: opts.batchSize ?? streamBatchSizeOf(config, source, stream) ?? Math.min(opts.limit, 500) });
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
      if (opts.json) printJson({ source, stream, records, checkpoint });
      else console.error(`${records.length} record(s) from ${source}.${stream}; checkpoint: ${JSON.stringify(checkpoint)}`);
    });
}
