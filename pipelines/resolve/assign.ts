/**
 * Gives each cluster of a new partition a customer id, reusing existing customers so that
 * ids stay stable: every existing customer has a *home* — the cluster holding most of its
 * records (ties: the one with fewer other existing customers, then the one that sorts
 * first) — and a cluster takes the id of its pinned records, else the lowest id homed in it
 * of a customer holding more than half its records there, else the lowest id homed in it.
 * Customers homed in a cluster that took another id were merged into it; records of a
 * customer found outside its home were split off. Clusters with no existing customer get a
 * new one. Pure.
 */
import type { Link } from './partition.js';

export interface AssignInput {
  clusters: readonly (readonly string[])[];
  tree: readonly Link[];
  /** Current customer of each record already stored (absent: new record). */
  currentCustomer: ReadonlyMap<string, number>;
  /** Pinned records' customers. */
  pinnedTo: ReadonlyMap<string, number>;
}

/** One step along the chain of shared keys between two records. */
export interface EvidenceStep {
  from: string;
  to: string;
  key: string;
}

export interface CustomerEvent {
  action: 'merge' | 'split';
  /** Cluster index; its id is known after new ids are given out. */
  cluster: number;
  /** The existing customer merged in (merge) or whose records moved (split). */
  from: number;
  /** merge: path from a record of `from` to a record of the survivor; split: the moved records. */
  path: EvidenceStep[];
  records: string[];
}

export interface Assignment {
  /** Customer id per cluster; null where a new customer must be created. */
  ids: (number | null)[];
  events: CustomerEvent[];
}

/** Adjacency of tree edges, both directions: built once per partition. */
export function linkIndex(tree: readonly Link[]): Map<string, EvidenceStep[]> {
  const next = new Map<string, EvidenceStep[]>();
  const add = (a: string, b: string, key: string) => {
    const list = next.get(a);
    const step = { from: a, to: b, key };
    if (list) list.push(step);
    else next.set(a, [step]);
  };
  for (const l of tree) {
    add(l.from, l.to, l.key);
    add(l.to, l.from, l.key);
  }
  return next;
}

/** Breadth-first search over tree edges, from any of `starts` to any of `goals`: the chain of keys between them. */
export function chain(next: ReadonlyMap<string, EvidenceStep[]>, starts: ReadonlySet<string>, goals: ReadonlySet<string>): EvidenceStep[] {
  const cameFrom = new Map<string, EvidenceStep | null>();
  const queue = [...starts].sort();
  for (const s of queue) cameFrom.set(s, null);
  for (let i = 0; i < queue.length; i++) {
    const at = queue[i]!;
    if (goals.has(at)) {
      const path: EvidenceStep[] = [];
      for (let step = cameFrom.get(at); step; step = cameFrom.get(step.from)) path.unshift(step);
      return path;
    }
    for (const step of next.get(at) ?? []) {
      if (cameFrom.has(step.to)) continue;
      cameFrom.set(step.to, step);
      queue.push(step.to);
    }
  }
  return [];
}

export function assign(input: AssignInput): Assignment {
  const { clusters, currentCustomer, pinnedTo } = input;
  // Records per (customer, cluster).
  const counts = new Map<number, Map<number, number>>();
  clusters.forEach((refs, c) => {
    for (const ref of refs) {
      const customer = currentCustomer.get(ref);
      if (customer === undefined) continue;
      const perCluster = counts.get(customer) ?? new Map<number, number>();
      perCluster.set(c, (perCluster.get(c) ?? 0) + 1);
      counts.set(customer, perCluster);
    }
  });
  // Existing customers per cluster (distinct: a customer standing in as one anchor node
  // counts as it would with all its records read, which keeps both readings' results equal).
  const stored = clusters.map(() => 0);
  for (const perCluster of counts.values()) for (const c of perCluster.keys()) stored[c]! += 1;
  const home = new Map<number, number>();
  /** Customers whose home holds no more than half of their records (torn apart). */
  const weak = new Set<number>();
  for (const [customer, perCluster] of counts) {
    let best = -1;
    let bestCount = 0;
    let total = 0;
    for (const [c, count] of perCluster) {
      total += count;
      // A tie goes to the cluster with fewer other customers: a customer whose
      // record moved to someone else's cluster stays where it is alone, rather than taking
      // the other cluster (and its customer's id) and leaving its own record to a new customer.
      const better =
        count > bestCount || (count === bestCount && (stored[c]! < stored[best]! || (stored[c] === stored[best] && c < best)));
      if (better) [best, bestCount] = [c, count];
    }
    home.set(customer, best);
    if (bestCount * 2 <= total) weak.add(customer);
  }
  const ids: (number | null)[] = clusters.map((refs) => {
    const pin = refs.map((r) => pinnedTo.get(r)).find((p) => p !== undefined);
    return pin ?? null;
  });
  // A pinned customer lives on in the cluster its pin names, whatever its record counts say:
  // its id is taken, so no other cluster may get it (two clusters under one id merged people
  // who share no key) and a cluster it is counted in elsewhere splits from it rather than
  // absorbing it (which left its pinned record on a merged-away customer).
  ids.forEach((id, c) => {
    if (id !== null) home.set(id, c);
  });
  // Of the customers homed in one cluster, it takes the id of one holding most of its
  // records there (a customer a change left untouched keeps its id; one torn apart is
  // merged into it), then the lowest id.
  const order = [...home].sort((a, b) => Number(weak.has(a[0])) - Number(weak.has(b[0])) || a[0] - b[0]);
  for (const [customer, c] of order) {
    if (ids[c] === null && !ids.includes(customer)) ids[c] = customer;
  }

  const events: CustomerEvent[] = [];
  let index: Map<string, EvidenceStep[]> | undefined;
  clusters.forEach((refs, c) => {
    const id = ids[c];
    const byCustomer = new Map<number, string[]>();
    for (const ref of refs) {
      const customer = currentCustomer.get(ref);
      if (customer === undefined || customer === id) continue;
      const list = byCustomer.get(customer);
      if (list) list.push(ref);
      else byCustomer.set(customer, [ref]);
    }
    const survivors = new Set(refs.filter((r) => currentCustomer.get(r) === id));
    for (const [from, moved] of [...byCustomer].sort((a, b) => a[0] - b[0])) {
      if (home.get(from) === c) {
        const path = survivors.size > 0 ? chain((index ??= linkIndex(input.tree)), new Set(moved), survivors) : [];
        events.push({ action: 'merge', cluster: c, from, path, records: moved });
      } else {
        events.push({ action: 'split', cluster: c, from, path: [], records: moved });
      }
    }
  });
  return { ids, events };
}
