/**
 * `resolve(records, tx, rules)`: attaches every mapped record of a batch to a customer.
 * Batch-oriented: a constant number of queries per batch, whatever its size (lock the
 * stripes, read the stored rows, look the keys up, lock the customers reached, read those
 * that must be read record by record, draw ids). Reads and locks only: `load` writes the
 * returned {@link Resolution}.
 *
 * The decision is {@link partition} over the batch and the customers it reaches, so it is
 * the same whatever order or split the records came in. A reached customer whose records
 * form one named anchor (or none), without pins, stands in as one node holding the batch's
 * keys: that is exact as long as the batch only attaches records to it. When it would be
 * merged with another customer, or hold a value that goes over its cap, or a batch record
 * leaves it, its records are read and the partition is run again over them.
 */
import type pg from 'pg';
import type { MappedRecord } from '../types.js';
import { assign } from './assign.js';
import { decodeKey, linkableKeys, recordRef } from './keys.js';
import { partition, type Partition, type PartitionRecord } from './partition.js';
import {
  desiredIdentities, diffIdentities, feedsGolden, loadCustomerFields, newCustomerIds,
  type AnchorInfo, type CustomerChange, type DirtyCustomer, type MovedRecord, type RecordData, type Resolution, type ResolveOptions,
} from './plan.js';
import { cappedAcrossMerges, cappedToRecount, droppedCappedKeys, recountHolders } from './recount.js';
import { loadRecords, lockRegion, lockStripes, storedByRef, type IdentityRow, type StoredRecord } from './region.js';
import type { ResolveRules } from './rules.js';

export type { Resolution, ResolveOptions } from './plan.js';

/** How a reached customer that is not read record by record appears in the partition. */
const superRef = (id: number) => `~customer/${id}`;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

export async function resolve(input: readonly MappedRecord[], tx: pg.ClientBase, rules: ResolveRules, options: ResolveOptions = {}): Promise<Resolution> {
  // A pass that merges holders of a capped value is run again with that value counted afresh.
  const recountAlso = new Set<string>();
  for (;;) {
    const pass = await resolvePass(input, tx, rules, options, recountAlso);
    if (!('recountAlso' in pass)) return pass;
    for (const key of pass.recountAlso) recountAlso.add(key);
  }
}

async function resolvePass(
  input: readonly MappedRecord[],
  tx: pg.ClientBase,
  rules: ResolveRules,
  options: ResolveOptions,
  recountAlso: ReadonlySet<string>,
): Promise<Resolution | { recountAlso: string[] }> {
  const syncedAt = options.syncedAt ?? new Date();
  const at = syncedAt.toISOString();
  const byRef = new Map<string, MappedRecord>();
  for (const r of input) byRef.set(recordRef(r), r); // a record read twice in one batch: the later read wins
  const keysOf = new Map<string, string[]>();
  for (const [ref, r] of byRef) keysOf.set(ref, linkableKeys(r.identities, rules, r.fields));

  await lockStripes(tx, [...byRef.keys(), ...[...keysOf.values()].flat()], rules.lockStripes);
  let stored = await storedByRef(tx, [...byRef.values()]);
  // Unchanged: the same source payload mapped by the same mapping. A mapping edited since
  // (a fixed time zone, a new enum entry) must reach records whose source did not change.
  const unchangedRecord = (ref: string, r: MappedRecord) => {
    const s = stored.get(ref);
    return s !== undefined && s.payloadHash === r.payloadHash && s.mappingVersion === r.mappingVersion;
  };
  const work = new Map([...byRef].filter(([ref, r]) => !unchangedRecord(ref, r)));
  const unchanged = byRef.size - work.size;
  if (work.size === 0) {
    return {
      syncedAt, write: [], unchanged, moved: [], newCustomers: [], dirty: [], absorbed: [], changes: [],
      identityDeletes: [], identityUpserts: [], newlyCapped: [], uncapped: [], losers: [], anchors: new Map(),
    };
  }
  // A changed record with the same keys cannot move: it is not a node of its own.
  const rekeyed = new Set([...work.keys()].filter((ref) => stored.has(ref) && !sameKeys(stored.get(ref)!.keys, keysOf.get(ref)!)));
  const fresh = new Set([...work.keys()].filter((ref) => !stored.has(ref)));
  // A capped value a changed record let go of, or whose holders an earlier pass merged, is
  // counted again over all its holders (recount.ts).
  const dropped = [...rekeyed].flatMap((ref) => droppedCappedKeys(stored.get(ref)!.keys, keysOf.get(ref)!, rules));
  let recount = await cappedToRecount(tx, [...dropped, ...recountAlso], rules);

  const workKeys = [...new Set([...work.keys()].flatMap((ref) => keysOf.get(ref)!))];
  const workRecords = [...work.values()];
  const owners = () => {
    const versions = new Map<number, string>();
    for (const ref of work.keys()) {
      const s = stored.get(ref);
      if (s) versions.set(s.customerId, s.customerVersion);
    }
    for (const [id, version] of recount.holders) if (!versions.has(id)) versions.set(id, version);
    return { ids: [...versions.keys()], versions };
  };
  const region = await lockRegion(tx, workKeys, {
    ...owners(),
    reread: async () => {
      stored = await storedByRef(tx, workRecords);
      // Holders of a recounted value change when a worker splits or merges one of them.
      if (recount.keys.size > 0) recount = await recountHolders(tx, [...recount.keys]);
      return owners();
    },
  });

  // Customers read record by record: pinned ones and those sharing a key with them, several
  // anchors, a record leaving them.
  const expanded = new Set<number>();
  for (const c of region.customers.values()) if (c.pinned || c.anchors > 1 || options.readAll) expanded.add(c.id);
  for (const id of region.neighbours) if (region.customers.has(id)) expanded.add(id);
  for (const ref of rekeyed) expanded.add(stored.get(ref)!.customerId);
  for (const id of recount.holders.keys()) if (region.customers.has(id)) expanded.add(id);
  const records = new Map<string, StoredRecord>();
  const identities: IdentityRow[] = [];
  const read = async (ids: number[]) => {
    const loaded = await loadRecords(tx, ids);
    for (const r of loaded.records) records.set(r.ref, r);
    identities.push(...loaded.identities);
  };
  await read([...expanded]);

  let p: Partition;
  const current = new Map<string, number>();
  const pinnedTo = new Map<string, number>();
  for (;;) {
    const nodes: PartitionRecord[] = [];
    current.clear();
    pinnedTo.clear();
    for (const r of records.values()) {
      current.set(r.ref, r.customerId);
      if (r.pinned) pinnedTo.set(r.ref, r.customerId);
      if (rekeyed.has(r.ref)) continue; // the batch's version replaces it
      nodes.push({ ref: r.ref, keys: r.keys, pinnedTo: r.pinned ? r.customerId : null });
    }
    for (const ref of [...fresh, ...rekeyed]) {
      const s = stored.get(ref);
      if (s) current.set(ref, s.customerId);
      nodes.push({ ref, keys: keysOf.get(ref)!, pinnedTo: s?.pinned ? s.customerId : null });
      if (s?.pinned) pinnedTo.set(ref, s.customerId);
    }
    for (const c of region.customers.values()) {
      if (expanded.has(c.id)) continue;
      current.set(superRef(c.id), c.id);
      nodes.push({ ref: superRef(c.id), keys: c.keys, pinnedTo: null, kinds: c.kinds });
    }
    const alreadyCapped = new Set(region.capped);
    for (const row of identities) if (row.state === 'capped') alreadyCapped.add(row.key);
    for (const key of recount.keys) alreadyCapped.delete(key);
    p = partition(nodes, rules, alreadyCapped);

    // A stand-in node may only gain records: read it when it meets another customer or a cap.
    const more = new Set<number>();
    for (const refs of p.clusters) {
      const supers = refs.filter((r) => r.startsWith('~'));
      if (supers.length === 0) continue;
      const customers = new Set(refs.map((r) => current.get(r)).filter((c) => c !== undefined));
      if (customers.size > 1) supers.forEach((r) => more.add(current.get(r)!));
    }
    // And when a key it holds stops linking: capped now, or shared by two pinned customers.
    for (const c of region.customers.values()) {
      if (!expanded.has(c.id) && c.keys.some((key) => p.newlyCapped.has(key) || p.keyState.get(key) === 'shared')) more.add(c.id);
    }
    if (more.size === 0) break;
    for (const c of more) expanded.add(c);
    await read([...more]);
  }
  const merged = cappedAcrossMerges(p.clusters, current, identities, recountAlso);
  if (merged.length > 0) return { recountAlso: merged };

  const a = assign({ clusters: p.clusters, tree: p.tree, currentCustomer: current, pinnedTo });
  const freshIds = await newCustomerIds(tx, a.ids.filter((id) => id === null).length);
  let next = 0;
  const ids = a.ids.map((id) => id ?? freshIds[next++]!);
  const freshSet = new Set(freshIds);
  const customerOf = new Map<string, number>();
  p.clusters.forEach((refs, c) => refs.forEach((ref) => customerOf.set(ref, ids[c]!)));
  // Changed records with unchanged keys follow their stored self (or their stand-in customer).
  for (const ref of work.keys()) {
    if (!customerOf.has(ref)) customerOf.set(ref, customerOf.get(superRef(stored.get(ref)!.customerId))!);
  }
  const held = (ref: string) => (work.has(ref) ? keysOf.get(ref)! : (records.get(ref)?.keys ?? []));

  // Identity rows. A stand-in's cluster only gains keys (no deletes, stored rows unread);
  // other clusters are diffed where they gained, lost or changed records or a key's state.
  const unusual = new Set<string>(identities.filter((r) => r.state !== 'link').map((r) => r.key));
  for (const [key, state] of p.keyState) if (state !== 'link') unusual.add(key);
  const upserts = new Map<string, IdentityRow>();
  const changed: number[] = [];
  p.clusters.forEach((refs, c) => {
    const id = ids[c]!;
    if (refs.some((r) => r.startsWith('~'))) {
      for (const ref of refs) {
        if (work.has(ref)) for (const key of held(ref)) upserts.set(`${key}\u0000${id}`, { key, customerId: id, state: p.keyState.get(key) ?? 'link' });
      }
    } else if (freshSet.has(id) || refs.some((ref) => work.has(ref) || current.get(ref) !== id || (unusual.size > 0 && held(ref).some((k) => unusual.has(k))))) {
      changed.push(c);
    }
  });
  // A customer that lost records is changed too, even when what it kept is not: the keys of
  // the records that left must leave its identity rows, or they would hold `link` twice.
  const clusterOfId = new Map<number, number>();
  p.clusters.forEach((_, c) => clusterOfId.set(ids[c]!, c));
  const changedSet = new Set(changed);
  p.clusters.forEach((refs, c) => {
    for (const ref of refs) {
      const was = current.get(ref);
      if (was === undefined || was === ids[c]) continue;
      const lost = clusterOfId.get(was);
      if (lost === undefined || changedSet.has(lost) || p.clusters[lost]!.some((r) => r.startsWith('~'))) continue;
      changedSet.add(lost);
      changed.push(lost);
    }
  });
  const changedIds = new Set(changed.map((c) => ids[c]!));
  const finalIds = new Set(ids);
  const diff = diffIdentities(
    desiredIdentities(changed.map((c) => p.clusters[c]!), changed.map((c) => ids[c]!), held, p.keyState),
    identities.filter((r) => changedIds.has(r.customerId) || !finalIds.has(r.customerId)),
  );

  // Golden records to recompute: new customers, and those a golden-feeding record entered,
  // left or changed in. An order joining a customer changes nothing golden.
  const goldenDirty = new Set<number>(freshIds);
  const feeds = (ref: string) => feedsGolden((work.get(ref) ?? records.get(ref))!.target);
  for (const ref of [...work.keys(), ...records.keys()]) {
    if (!feeds(ref)) continue;
    const now = customerOf.get(ref)!;
    const was = current.get(ref) ?? stored.get(ref)?.customerId;
    if (work.has(ref) || was !== now) goldenDirty.add(now);
    if (was !== undefined && was !== now) goldenDirty.add(was);
  }
  const dirty = await dirtyCustomers(tx, p, ids, goldenDirty, work, customerOf, current, at);

  const changes: CustomerChange[] = a.events.map((e) => {
    const capped = e.action === 'split' ? [...new Set(e.records.flatMap(held))].filter((k) => p.newlyCapped.has(k) && !recount.keys.has(k)) : undefined;
    return { action: e.action, customerId: ids[e.cluster]!, absorbedId: e.from, evidence: { records: e.records, path: e.path, ...(capped ? { capped } : {}) } };
  });
  const moved: MovedRecord[] = [];
  const losers = new Set<number>();
  for (const [ref, r] of records) {
    const to = customerOf.get(ref)!;
    if (to === r.customerId) continue;
    losers.add(r.customerId);
    if (!work.has(ref)) moved.push({ source: r.source, stream: r.stream, sourceKey: r.sourceKey, target: r.target, customerId: to });
  }
  const anchors = new Map<number, AnchorInfo>();
  p.clusters.forEach((_, c) => {
    const id = ids[c]!;
    const before = region.customers.get(id);
    if (freshSet.has(id) || !before || before.anchors !== p.anchors[c] || !sameKeys(before.kinds, p.kinds[c]!)) {
      anchors.set(id, { anchors: p.anchors[c]!, kinds: p.kinds[c]! });
    }
  });
  return {
    syncedAt,
    write: [...work].map(([ref, record]) => ({ record, ref, keys: keysOf.get(ref)!, customerId: customerOf.get(ref)!, pinned: stored.get(ref)?.pinned ?? false })),
    unchanged,
    moved,
    newCustomers: freshIds,
    dirty,
    absorbed: a.events.filter((e) => e.action === 'merge').map((e) => ({ id: e.from, into: ids[e.cluster]! })),
    changes,
    identityDeletes: diff.deletes,
    identityUpserts: [...diff.upserts, ...upserts.values()],
    newlyCapped: [...p.newlyCapped].filter(([key]) => !recount.keys.has(key)).map(([key, holders]) => ({ key, holders, cap: rules.kinds.get(decodeKey(key).kind)!.cap! })),
    uncapped: [...recount.keys].filter((key) => p.keyState.get(key) !== 'capped'),
    losers: [...losers],
    anchors,
    inserted: new Set([...work.keys()].filter((ref) => !stored.has(ref))),
  };
}

/** The records (with fields) of every customer whose golden record is recomputed. */
async function dirtyCustomers(
  tx: pg.ClientBase,
  p: Partition,
  ids: readonly number[],
  goldenDirty: ReadonlySet<number>,
  work: ReadonlyMap<string, MappedRecord>,
  customerOf: ReadonlyMap<string, number>,
  current: ReadonlyMap<string, number>,
  at: string,
): Promise<DirtyCustomer[]> {
  const clusters = p.clusters.map((refs, c) => ({ refs, id: ids[c]! })).filter((c) => goldenDirty.has(c.id));
  // Stored fields by current customer: a stand-in brings all of its own, a read customer those of its records here.
  const owners = new Set<number>();
  for (const { refs } of clusters) for (const ref of refs) if (!work.has(ref) && current.has(ref)) owners.add(current.get(ref)!);
  const storedFields = await loadCustomerFields(tx, [...owners]);
  const byRef = new Map<string, RecordData>();
  for (const list of storedFields.values()) for (const d of list) byRef.set(d.ref, d);
  const batchOf = new Map<number, RecordData[]>();
  for (const [ref, r] of work) {
    const id = customerOf.get(ref)!;
    if (!goldenDirty.has(id)) continue;
    const list = batchOf.get(id) ?? [];
    list.push({ ref, source: r.source, stream: r.stream, sourceKey: r.sourceKey, target: r.target, fields: r.fields, origins: r.origins, syncedAt: at });
    batchOf.set(id, list);
  }
  return clusters.map(({ refs, id }) => {
    const out = new Map<string, RecordData>();
    for (const ref of refs) {
      if (ref.startsWith('~')) for (const d of storedFields.get(current.get(ref)!) ?? []) out.set(d.ref, d);
      else if (byRef.has(ref)) out.set(ref, byRef.get(ref)!);
    }
    // The batch's versions replace stored ones (changed records).
    for (const d of batchOf.get(id) ?? []) out.set(d.ref, d);
    return { id, records: [...out.values()] };
  });
}
