/**
 * Micro-benchmark of the map stage: the committed demo mappings over generated demo records
 * (no services), once with plain paths compiled to direct access and once with every
 * expression forced through JSONata. The lead wires `benchMap()` into `npm run bench`.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PROJECT_ROOT } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import type { SourceRecord } from '../../connectors/types.js';
import { compileMapping, type CompiledMapping } from './compile.js';
import { estateRecords, type DemoStream } from './estate-records.js';
import { mapBatch } from './map-batch.js';

export interface MapBenchOptions {
  /** Records to map per variant, drawn from every demo stream. @defaultValue 50000 */
  records?: number;
  /** Config whose mappings are measured. @defaultValue config/junction.yaml */
  config?: string;
  /** Records per mapBatch call, like a sync page. @defaultValue 1000 */
  batchSize?: number;
}

export interface MapBenchVariant {
  recordsPerSecond: number;
  ms: number;
}

export interface MapBenchResult {
  records: number;
  /** Plain paths read directly (how Junction runs). */
  fastPath: MapBenchVariant;
  /** Every expression evaluated by JSONata. */
  jsonata: MapBenchVariant;
  /** fastPath / jsonata records per second. */
  speedup: number;
  /** Records that failed to map (0 on the demo estate; anything else is a bug to look at). */
  failures: number;
}

interface Work {
  mapping: CompiledMapping;
  records: SourceRecord[];
}

async function run(work: Work[], batchSize: number): Promise<{ ms: number; failures: number }> {
  let failures = 0;
  const start = performance.now();
  for (const { mapping, records } of work) {
    for (let i = 0; i < records.length; i += batchSize) {
      const result = await mapBatch(mapping, mapping.source, mapping.stream, records.slice(i, i + batchSize));
      failures += result.failures.length;
    }
  }
  return { ms: performance.now() - start, failures };
}

/** Maps the same demo records with the fast path and with forced JSONata; records/s of both. */
export async function benchMap(options: MapBenchOptions = {}): Promise<MapBenchResult> {
  const target = options.records ?? 50_000;
  const batchSize = options.batchSize ?? 1000;
  const config = await loadConfig(options.config ?? path.join(PROJECT_ROOT, 'config', 'junction.yaml'), { env: {} });
  // The default estate yields ~4.7 records per person.
  const estate = estateRecords({ scale: Math.max(100, Math.ceil(target / 4)) });
  const all = config.mappings.flatMap((m) => estate[`${m.mapping.source}.${m.mapping.stream}` as DemoStream] ?? []).length;
  const share = Math.min(1, target / Math.max(all, 1));

  const workFor = (fastPath: boolean): Work[] =>
    config.mappings.map((m) => {
      const records = estate[`${m.mapping.source}.${m.mapping.stream}` as DemoStream] ?? [];
      return { mapping: compileMapping(m, config, { fastPath }), records: records.slice(0, Math.ceil(records.length * share)) };
    });
  const fast = workFor(true);
  const slow = workFor(false);
  const records = fast.reduce((n, w) => n + w.records.length, 0);

  // Warm up both (JIT, luxon and libphonenumber caches), then measure.
  const sample = (work: Work[]) => work.map((w) => ({ ...w, records: w.records.slice(0, 200) }));
  await run(sample(fast), batchSize);
  await run(sample(slow), batchSize);
  const f = await run(fast, batchSize);
  const j = await run(slow, batchSize);
  const rate = (ms: number) => Math.round((records / ms) * 1000);
  return {
    records,
    fastPath: { recordsPerSecond: rate(f.ms), ms: Math.round(f.ms) },
    jsonata: { recordsPerSecond: rate(j.ms), ms: Math.round(j.ms) },
    speedup: Math.round((j.ms / f.ms) * 100) / 100,
    failures: f.failures + j.failures,
  };
}
