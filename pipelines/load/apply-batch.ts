/**
 * The entry point a sync calls for each batch, inside the transaction that also commits
 * the batch's checkpoint: check values, resolve identities, load. A crash anywhere rolls
 * all of it back; re-running the batch is harmless (unchanged records are skipped).
 */
import type pg from 'pg';
import { resolve, type ResolveOptions } from '../resolve/resolve.js';
import type { MovedRecord, ResolvedRecord, Resolution } from '../resolve/plan.js';
import type { ResolveRules } from '../resolve/rules.js';
import type { MappedRecord, RecordFailure } from '../types.js';
import { load } from './load.js';
import { checkValues } from './values.js';

export interface BatchResult {
  /** Customers created for records whose keys reached none. */
  customersCreated: number;
  /** Existing customers absorbed into another by this batch. */
  merged: number;
  /** Records inserted or updated. */
  loaded: number;
  /** Records skipped because their payload hash had not changed. */
  unchanged: number;
  /** Records that could not be loaded (they belong in the dead letters); the rest went on. */
  failures: RecordFailure[];
  /** The records written (inserted or updated), each with the customer it now belongs to. */
  written: ResolvedRecord[];
  /** Records of other batches whose customer changed (a merge or split moved them). */
  moved: MovedRecord[];
  /** Customers absorbed by a merge, and the customer each went into. */
  absorbed: { id: number; into: number }[];
  /**
   * Every customer whose golden record, identities or records this batch changed, absorbed
   * ones included, and those that lost a record to another customer (sorted): what
   * `customer.updated` events and the ClickHouse dimension send.
   */
  customerIds: number[];
}

export type ApplyOptions = ResolveOptions;

/** Resolves and loads `records` in `tx` (the caller begins and commits it). */
export async function applyBatch(tx: pg.ClientBase, records: readonly MappedRecord[], rules: ResolveRules, options: ApplyOptions = {}): Promise<BatchResult> {
  const { ok, failures } = checkValues(records, rules);
  const resolution = await resolve(ok, tx, rules, options);
  const { loaded } = await load(resolution, tx, rules);
  return {
    customersCreated: resolution.newCustomers.length,
    merged: resolution.absorbed.length,
    loaded,
    unchanged: resolution.unchanged,
    failures,
    written: resolution.write,
    moved: resolution.moved,
    absorbed: resolution.absorbed,
    customerIds: touchedCustomers(resolution),
  };
}

function touchedCustomers(r: Resolution): number[] {
  const ids = new Set<number>(r.newCustomers);
  for (const w of r.write) ids.add(w.customerId);
  for (const m of r.moved) ids.add(m.customerId);
  for (const d of r.dirty) ids.add(d.id);
  // A customer an order or ticket left keeps its golden record (so it is not dirty), but its
  // record count, sources and identity keys changed: without it, ClickHouse would keep the old
  // counts and show the moved record's keys on two live customers.
  for (const id of r.losers) ids.add(id);
  for (const a of r.absorbed) {
    ids.add(a.id);
    ids.add(a.into);
  }
  return [...ids].sort((a, b) => a - b);
}
