/**
 * `load(resolution, tx, rules)`: writes what {@link resolve} decided, in the caller's
 * transaction. Idempotent: records whose payload hash did not change never reach it, and
 * golden records, identities and attributes are only written where they differ.
 */
import type pg from 'pg';
import type { Resolution } from '../resolve/plan.js';
import type { ResolveRules } from '../resolve/rules.js';
import { golden, type Golden } from './golden.js';
import { writeAbsorbed, writeAttributes, writeCapped, writeGolden, writeIdentities, writeMergeLog, writeUncapped } from './write-customers.js';
import { moveRecords, writeEntities, writeSourceRecords } from './write-records.js';

export interface LoadResult {
  /** Source records inserted or updated. */
  loaded: number;
  /** Golden records computed (new and changed customers). */
  customersWritten: number;
}

export async function load(resolution: Resolution, tx: pg.ClientBase, rules: ResolveRules): Promise<LoadResult> {
  const goldens = new Map<number, Golden>();
  for (const c of resolution.dirty) goldens.set(c.id, golden(c.records, rules));
  // Customers first: the merge log and attributes reference them.
  const newCustomers = new Set(resolution.newCustomers);
  await writeGolden(tx, goldens, newCustomers, resolution.anchors);
  await writeAbsorbed(tx, resolution.absorbed);
  await writeSourceRecords(tx, resolution.write, resolution.syncedAt, resolution.inserted);
  await moveRecords(tx, resolution.moved, resolution.losers);
  await writeEntities(tx, resolution.write, resolution.syncedAt, resolution.inserted);
  await writeIdentities(tx, resolution.identityDeletes, resolution.identityUpserts, newCustomers);
  await writeCapped(tx, resolution.newlyCapped);
  await writeUncapped(tx, resolution.uncapped ?? []);
  await writeMergeLog(tx, resolution.changes);
  await writeAttributes(tx, goldens, resolution.absorbed.map((a) => a.id), rules);
  return { loaded: resolution.write.length, customersWritten: goldens.size };
}
