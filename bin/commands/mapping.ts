/**
 * `junction mapping preview FILE [--limit N] [--json]`: a mapping run on live samples read
 * through the source's connector, showing per record the source record, the mapped row,
 * the identity keys and any error (the map stage's, or the load gate's). Nothing is written anywhere.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { JunctionError } from '../../config/errors.js';
import type { ResolvedConfig } from '../../config/load.js';
import type { SourceRecord } from '../../connectors/types.js';
import { compileMapping } from '../../pipelines/map/compile.js';
import { checkValues } from '../../pipelines/load/values.js';
import { cutDeep } from '../../pipelines/map/canonical-json.js';
import { mapRecord, type MapOutcome } from '../../pipelines/map/map-batch.js';
import { resolveRules, type ResolveRules } from '../../pipelines/resolve/rules.js';
import { printJson } from '../json-output.js';
import { loadCliConfig, openSource } from '../sources.js';
import { positiveIntUpTo } from '../options.js';

interface PreviewOptions {
  config?: string;
  limit: number;
  json?: boolean;
}

/** One previewed record, as `--json` lists it under `records`. */
export interface PreviewRow {
  sourceKey: string | null;
  source: SourceRecord;
  mapped: Record<string, unknown> | null;
  identities: { kind: string; value: string }[];
  error: { code: string; message: string } | null;
}

function findMapping(config: ResolvedConfig, file: string) {
  const abs = path.resolve(file);
  const found = config.mappings.find((m) => m.file === abs);
  if (!found) {
    const listed = config.mappings.map((m) => path.relative(process.cwd(), m.file)).join(', ') || 'none';
    throw new JunctionError('CFG_UNKNOWN_REF', `${file} is not listed under mappings: in ${path.relative(process.cwd(), config.file)} (listed: ${listed})`);
  }
  return found;
}

/**
 * One record as previewed. A mapped record also goes through the load stage's gate
 * (pipelines/load/values.ts), so what a sync would dead-letter there (a NUL, a lone
 * surrogate, a key too long to index, a value that does not fit its column) shows as an
 * error beside the mapped row.
 */
export function previewRow(raw: SourceRecord, outcome: MapOutcome, rules: ResolveRules): PreviewRow {
  if (outcome.ok) {
    const { sourceKey, fields, identities } = outcome.record;
    const refused = checkValues([outcome.record], rules).failures[0];
    return { sourceKey, source: raw, mapped: fields, identities, error: refused ? { code: refused.code, message: refused.message } : null };
  }
  // A record nested too deep to print whole is shown cut, as its dead letter would hold it.
  const { sourceKey, code, message } = outcome.failure;
  return { sourceKey, source: code === 'MAP_RECORD_TOO_DEEP' ? (cutDeep(raw) as SourceRecord) : raw, mapped: null, identities: [], error: { code, message } };
}

const indent = (text: string) => text.replace(/^/gm, '    ');

function printRows(rows: PreviewRow[]): void {
  rows.forEach((r, i) => {
    console.log(`\n#${i + 1} key=${r.sourceKey ?? '(none)'}${r.error ? '  FAILED' : ''}`);
    console.log(`  source:\n${indent(JSON.stringify(r.source, null, 2))}`);
    if (r.mapped) console.log(`  mapped:\n${indent(JSON.stringify(r.mapped, null, 2))}`);
    if (!r.error) console.log(`  identity: ${r.identities.map((k) => `${k.kind}=${k.value}`).join('  ') || '(none)'}`);
    if (r.error) console.log(`  error: ${r.error.message} [${r.error.code}]`);
  });
  const failed = rows.filter((r) => r.error).length;
  console.log(`\n${rows.length} record(s): ${rows.length - failed} mapped, ${failed} failed`);
}

/** Adds `junction mapping …` to the CLI. */
export function registerMapping(program: Command): void {
  const mapping = program.command('mapping').description('work with mapping files (mappings/*.yaml)');
  mapping
    .command('preview')
    .argument('<file>', 'a mapping file listed in the config, e.g. mappings/shop_pg.accounts.yaml')
    .description('map live sample records through the source connector and show the results (writes nothing)')
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('-n, --limit <n>', 'records to read, at most 10000', positiveIntUpTo(10_000), 5)
    .option('--json', 'print one JSON object {source, stream, target, version, records}: per record {sourceKey, source, mapped, identities, error}')
    .action(async (file: string, opts: PreviewOptions) => {
      // An invalid config is reported by bin/cli.ts, as every command reports it (exit 2).
      const config = await loadCliConfig(opts.config);
      const loaded = findMapping(config, file);
      const compiled = compileMapping(loaded, config);
      const connector = openSource(config, compiled.source);
      const records: SourceRecord[] = [];
      try {
        const batches = connector.read(compiled.stream, null, { limit: opts.limit, batchSize: Math.min(opts.limit, 500) });
        for await (const batch of batches) {
          records.push(...batch.records.slice(0, opts.limit - records.length));
          if (records.length >= opts.limit) break;
        }
      } finally {
        await connector.close();
      }
      const rules = resolveRules(config);
      const rows: PreviewRow[] = [];
      for (const raw of records) rows.push(previewRow(raw, await mapRecord(compiled, raw), rules));
      if (opts.json) {
        printJson({ source: compiled.source, stream: compiled.stream, target: compiled.target, version: compiled.version, records: rows });
        return;
      }
      console.log(`${compiled.source}.${compiled.stream} → ${compiled.target}  (${compiled.version})`);
      printRows(rows);
    });
}
