/**
 * The pure half of the seed: people in, batches of source rows out, no I/O. The writers
 * consume the batches one at a time, so memory stays flat at `--scale 200000`; tests can
 * run it without any service to check determinism.
 */
import { GroundTruthDigest, groundTruthLines } from './ground-truth.js';
import { generatePeople } from './people.js';
import { createRng } from './rng.js';
import { emptyBatch, type EstateBatch } from './rows.js';
import { addPersonRecords, newCounters } from './source-records.js';

/** What to generate. */
export interface GenerateOptions {
  /**
   * Number of people behind the estate.
   * @defaultValue 2000
   */
  scale?: number;
  /**
   * PRNG seed; the same seed and scale always give the same estate.
   * @defaultValue 'junction'
   */
  seed?: string | number;
  /**
   * People per yielded batch. Only changes how rows are grouped, never the rows themselves.
   * @defaultValue 2000
   */
  batchPeople?: number;
}

export const DEFAULT_SCALE = 2000;
export const DEFAULT_SEED = 'junction';

/** Rejects a wrong option with a message that names it. */
export function checkGenerateOptions(options: GenerateOptions): Required<GenerateOptions> {
  const scale = options.scale ?? DEFAULT_SCALE;
  const batchPeople = options.batchPeople ?? 2000;
  if (!Number.isInteger(scale) || scale < 1 || scale > 10_000_000) {
    throw new RangeError(`scale must be an integer from 1 to 10000000, got ${String(options.scale)}`);
  }
  if (!Number.isInteger(batchPeople) || batchPeople < 1) {
    throw new RangeError(`batchPeople must be a positive integer, got ${String(options.batchPeople)}`);
  }
  const seed = options.seed ?? DEFAULT_SEED;
  if (typeof seed === 'string' && seed.length === 0) throw new RangeError('seed must not be empty');
  return { scale, seed, batchPeople };
}

/** Yields the estate in batches of `batchPeople` people, in a fixed order. */
export function* generateEstate(options: GenerateOptions = {}): Generator<EstateBatch> {
  const { scale, seed, batchPeople } = checkGenerateOptions(options);
  const rng = createRng(seed);
  const ids = newCounters();
  let batch = emptyBatch();
  let inBatch = 0;
  for (const person of generatePeople(rng, scale)) {
    addPersonRecords(rng, person, batch, ids);
    inBatch += 1;
    if (inBatch === batchPeople) {
      yield batch;
      batch = emptyBatch();
      inBatch = 0;
    }
  }
  if (inBatch > 0) yield batch;
}

/** Record counts per `source.stream` (plus `orders_soap.order_lines`). */
export type EstateCounts = Record<string, number>;

/** Adds a batch's row counts to `counts`. */
export function countBatch(counts: EstateCounts, batch: EstateBatch): void {
  const add = (key: string, n: number) => {
    counts[key] = (counts[key] ?? 0) + n;
  };
  add('crm_oracle.customers', batch.crmCustomers.length);
  add('shop_pg.accounts', batch.shopAccounts.length);
  add('shop_pg.addresses', batch.shopAddresses.length);
  add('orders_soap.orders', batch.orders.length);
  add('orders_soap.order_lines', batch.orderLines.length);
  add('tickets_php.tickets', batch.tickets.length);
  add('app_mongo.users', batch.appUsers.length);
}

/** Generates without writing: the counts and ground-truth SHA-256 a seed run would produce. */
export function digestEstate(options: GenerateOptions = {}): { counts: EstateCounts; groundTruthSha256: string } {
  const digest = new GroundTruthDigest();
  const counts: EstateCounts = {};
  for (const batch of generateEstate(options)) {
    digest.update(groundTruthLines(batch.truth));
    countBatch(counts, batch);
  }
  return { counts, groundTruthSha256: digest.hex() };
}
