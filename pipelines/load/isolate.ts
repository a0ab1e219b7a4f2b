/**
 * A batch PostgreSQL refuses for its data (SQLSTATE class 22, a data exception, 23, an
 * integrity constraint, or 54, a program limit such as a value too large for its index) is
 * loaded again in halves, each under a savepoint, in the same transaction; a refused half is
 * halved again, down to the records PostgreSQL refuses alone.
 * Those become dead letters (ID_LOAD_REFUSED, with their key and the server's reason) and the
 * rest load with the batch's checkpoint. Without it one value the load gate (values.ts) did
 * not foresee failed the batch on every run, and no record after it ever loaded. Halving
 * finds one refused record among n in about 2·log2(n) loads (26 for a batch of 5,000)
 * where going record by record took n.
 */
import pg from 'pg';
import type { ResolveRules } from '../resolve/rules.js';
import type { MappedRecord } from '../types.js';
import { applyBatch, type BatchResult } from './apply-batch.js';

type Apply = (tx: pg.ClientBase, records: readonly MappedRecord[], rules: ResolveRules) => Promise<BatchResult>;

const isDataError = (err: unknown): err is pg.DatabaseError => err instanceof pg.DatabaseError && /^(2[23]|54)/.test(err.code ?? '');

/** A result of nothing loaded, to {@link addBatchResult} into. */
export function emptyBatchResult(): BatchResult {
  return { customersCreated: 0, merged: 0, loaded: 0, unchanged: 0, failures: [], written: [], moved: [], absorbed: [], customerIds: [] };
}

/** Adds one part's result to `total` (in place; customer ids are for the caller to sort once, at the end). */
export function addBatchResult(total: BatchResult, r: BatchResult): void {
  total.customersCreated += r.customersCreated;
  total.merged += r.merged;
  total.loaded += r.loaded;
  total.unchanged += r.unchanged;
  total.failures.push(...r.failures);
  total.written.push(...r.written);
  total.moved.push(...r.moved);
  total.absorbed.push(...r.absorbed);
  total.customerIds.push(...r.customerIds);
}

/** {@link applyBatch}, falling back to halves of the batch when PostgreSQL refuses its data. */
export async function applyIsolating(tx: pg.ClientBase, records: readonly MappedRecord[], rules: ResolveRules, apply: Apply = applyBatch): Promise<BatchResult> {
  await tx.query('SAVEPOINT junction_batch');
  try {
    const result = await apply(tx, records, rules);
    await tx.query('RELEASE SAVEPOINT junction_batch');
    return result;
  } catch (err) {
    if (!isDataError(err)) throw err;
    await tx.query('ROLLBACK TO SAVEPOINT junction_batch');
    await tx.query('RELEASE SAVEPOINT junction_batch');
    if (records.length === 1) return refused(records[0]!, err);
  }
  const total = emptyBatchResult();
  const middle = Math.ceil(records.length / 2);
  for (const half of [records.slice(0, middle), records.slice(middle)]) addBatchResult(total, await applyIsolating(tx, half, rules, apply));
  total.customerIds = [...new Set(total.customerIds)].sort((a, b) => a - b);
  return total;
}

/** The result of a record PostgreSQL refuses alone: nothing loaded, one dead letter. */
function refused(record: MappedRecord, err: pg.DatabaseError): BatchResult {
  const result = emptyBatchResult();
  result.failures.push({
    source: record.source,
    stream: record.stream,
    sourceKey: record.sourceKey,
    stage: 'load',
    code: 'ID_LOAD_REFUSED',
    message: `PostgreSQL refused the record: ${err.message} (SQLSTATE ${err.code})`,
    raw: record.raw,
    mappingVersion: record.mappingVersion,
  });
  return result;
}
