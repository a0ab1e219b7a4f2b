/**
 * `junction demo seed`: generates the fictional retailer's estate and writes every source —
 * PostgreSQL (shop, legacy orders and tickets), the app's MongoDB users, the Oracle CRM seed
 * script — plus the ground truth that identity resolution is scored against.
 */
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { JunctionError } from '../../config/errors.js';
import { stackSettings, withDatabase, type StackSettings } from '../../config/env.js';
import { checkGenerateOptions, countBatch, generateEstate, type EstateCounts, type GenerateOptions } from './generate.js';
import { GROUND_TRUTH_HEADER, GroundTruthDigest, groundTruthLines } from './ground-truth.js';
import { EstateMongoWriter } from './write-mongo.js';
import { ensureDatabase, EstatePgWriter } from './write-postgres.js';
import { OracleSeedWriter } from './write-oracle.js';

/** Options of {@link seedEstate}. */
export interface SeedOptions extends GenerateOptions {
  /**
   * Folder for `ground_truth.csv` and `crm_oracle_seed.sql`.
   * @defaultValue `<dataDir>/estate`
   */
  outDir?: string;
  /**
   * Where the services are.
   * @defaultValue `stackSettings()`
   */
  settings?: StackSettings;
  /** Called after each batch with the number of people written so far (for progress output). */
  onProgress?: (peopleDone: number, scale: number) => void;
}

/** What a seed run wrote. */
export interface SeedSummary {
  scale: number;
  seed: string | number;
  /** Records per `source.stream`; `orders_soap.order_lines` counts order lines. */
  counts: EstateCounts;
  /** Rows of the ground truth (every record of every source except order lines). */
  groundTruthRows: number;
  groundTruthPath: string;
  /** SHA-256 (hex) of the ground-truth file's bytes: equal seeds and scales give equal hashes. */
  groundTruthSha256: string;
  oracleSeedPath: string;
  durationMs: number;
}

export const GROUND_TRUTH_FILE = 'ground_truth.csv';
export const ORACLE_SEED_FILE = 'crm_oracle_seed.sql';

/** Wraps a failure in `DEMO_SEED_FAILED`, naming the source and keeping the driver's own code. */
function seedError(source: string, err: unknown): JunctionError {
  if (err instanceof JunctionError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown }).code;
  return new JunctionError('DEMO_SEED_FAILED', `seeding failed: ${message}`, {
    cause: err,
    where: { source },
    details: code === undefined ? undefined : { code },
  });
}

async function step<T>(source: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    throw seedError(source, err);
  }
}

/**
 * Replaces the demo estate's data with a freshly generated one. Deterministic: the same
 * `seed` and `scale` produce the same rows and the same ground-truth hash. Files are written
 * under temporary names and renamed at the end, so a failed run leaves the previous ones.
 */
export async function seedEstate(options: SeedOptions = {}): Promise<SeedSummary> {
  const started = performance.now();
  const { scale, seed, batchPeople } = checkGenerateOptions(options);
  const settings = options.settings ?? stackSettings();
  const outDir = path.resolve(options.outDir ?? path.join(settings.dataDir, 'estate'));
  const pgUrl = withDatabase(settings.services.postgres.url, settings.estateDatabase);
  const truthPath = path.join(outDir, GROUND_TRUTH_FILE);
  const oraclePath = path.join(outDir, ORACLE_SEED_FILE);

  await step('ground truth', () => mkdir(outDir, { recursive: true }));
  await step('shop_pg', () => ensureDatabase(settings.services.postgres.url, settings.estateDatabase));
  const pgWriter = await step('shop_pg', () => EstatePgWriter.open(pgUrl));
  let mongoWriter: EstateMongoWriter | undefined;
  let truthFile: FileHandle | undefined;
  let oracleFile: FileHandle | undefined;
  try {
    const truth = (truthFile = await open(`${truthPath}.tmp`, 'w'));
    oracleFile = await open(`${oraclePath}.tmp`, 'w');
    mongoWriter = await step('app_mongo', () => EstateMongoWriter.open(settings.services.mongo.url));
    const oracle = new OracleSeedWriter(oracleFile);
    await oracle.start();
    await truth.write(GROUND_TRUTH_HEADER);
    const digest = new GroundTruthDigest();
    const counts: EstateCounts = {};
    let truthRows = 0;
    let people = 0;
    let inFlight: Promise<unknown> = Promise.resolve();
    for (const batch of generateEstate({ scale, seed, batchPeople })) {
      const csv = groundTruthLines(batch.truth);
      digest.update(csv);
      truthRows += batch.truth.length;
      countBatch(counts, batch);
      // One batch in flight while the next is generated: the servers work while we compute.
      await inFlight;
      const mongo = mongoWriter;
      inFlight = Promise.all([
        step('shop_pg', () => pgWriter.write(batch)),
        step('app_mongo', () => mongo.write(batch.appUsers)),
        step('crm_oracle', () => oracle.write(batch.crmCustomers)),
        step('ground truth', () => truth.write(csv)),
      ]);
      // Keep a rejection from surfacing as "unhandled" before the next await picks it up.
      inFlight.catch(() => undefined);
      people = Math.min(scale, people + batchPeople);
      options.onProgress?.(people, scale);
    }
    await inFlight;
    await oracle.finish();
    await step('app_mongo', () => (mongoWriter as EstateMongoWriter).finish());
    mongoWriter = undefined;
    await step('shop_pg', () => pgWriter.commit());
    await truth.close();
    await oracleFile.close();
    await rename(`${truthPath}.tmp`, truthPath);
    await rename(`${oraclePath}.tmp`, oraclePath);
    return {
      scale,
      seed,
      counts,
      groundTruthRows: truthRows,
      groundTruthPath: truthPath,
      groundTruthSha256: digest.hex(),
      oracleSeedPath: oraclePath,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (err) {
    await pgWriter.abort();
    await mongoWriter?.abort();
    await truthFile?.close().catch(() => undefined);
    await oracleFile?.close().catch(() => undefined);
    await rm(`${truthPath}.tmp`, { force: true });
    await rm(`${oraclePath}.tmp`, { force: true });
    throw err;
  }
}
