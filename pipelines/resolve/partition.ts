/**
 * The pure core of identity resolution: which records are one customer, as a function of
 * the records' keys, the rules and the pins — never of the order records arrived in.
 *
 * 1. **Anchors**: records joined by keys of uncapped kinds (ids, emails). An anchor is "named"
 *    when it holds at least one uncapped key; an order known only by a phone is not.
 * 2. **Caps**: a value of a capped kind (phone, cap N) is held by as many people as the
 *    anchors holding it can be told apart by one kind of id: for each uncapped kind, count
 *    the anchors holding the value that have an id of that kind; the largest count is the
 *    number of holders. Three family members with an email each share the phone 3 times; one
 *    person whose app account (ids, no email) and CRM record (email) share it, once. Held by
 *    more than N, the value is *capped* and links nothing (families over the cap,
 *    switchboards). Values capped earlier stay capped (`alreadyCapped`), unless the caller
 *    has them counted again with all their holders (recount.ts).
 * 3. **Customers**: records joined by uncapped keys and by capped-kind values under their cap.
 *    Pinned records (unmerge) carry their customer id as a colour; sets of two different
 *    colours never join. Keys are applied by kind priority (highest first), so a record whose
 *    keys reach two pinned customers joins the one its strongest key names. A value held on
 *    both sides already names neither (state `shared`): it links nobody, lower keys decide,
 *    and a record nothing else names stays on its own.
 *
 * Without pins the result is plain connected components, which no order or batch split can
 * change; with pins it depends only on the (sorted) records and the kind priorities.
 */
import type { ResolveRules } from './rules.js';
import { UnionFind } from './union-find.js';

export interface PartitionRecord {
  /** `source/stream/key`: the stable name records are sorted by. */
  ref: string;
  /** Linkable keys (`kind:value`), see {@link linkableKeys}. */
  keys: readonly string[];
  /** The customer a pinned record must stay with; null when not pinned. */
  pinnedTo: number | null;
  /**
   * The uncapped kinds the node has ids of, when that does not follow from its keys:
   * resolution stands a whole single-anchor customer in as one node holding only the
   * batch's keys. @defaultValue the kinds of its uncapped keys
   */
  kinds?: readonly string[];
}

/** One edge of a cluster's spanning tree: `from` and `to` share `key` (or a pin). */
export interface Link {
  from: string;
  to: string;
  /** `kind:value`, or `pin:<customer id>` for records kept together by an unmerge. */
  key: string;
}

export type KeyState = 'link' | 'capped' | 'shared';

export interface Partition {
  /** Record refs per cluster; each sorted, clusters sorted by their first ref. */
  clusters: string[][];
  /** Named anchors per cluster (same order as `clusters`). */
  anchors: number[];
  /** Uncapped kinds each cluster has ids of (same order as `clusters`). */
  kinds: string[][];
  /** Spanning forest: why each cluster's records are together. */
  tree: Link[];
  /** Capped values found here that were not capped before, with their named-anchor count. */
  newlyCapped: Map<string, number>;
  /** The state of every key held in the input (see unified.customer_identity.state). */
  keyState: Map<string, KeyState>;
}

export function partition(input: readonly PartitionRecord[], rules: ResolveRules, alreadyCapped: ReadonlySet<string>): Partition {
  const records = [...input].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  const n = records.length;
  // key → holder indexes, in record order; grouped by kind so keys can be applied by priority.
  const holdersByKind = new Map<string, Map<string, number[]>>();
  records.forEach((r, i) => {
    for (const key of r.keys) {
      const kind = key.slice(0, key.indexOf(':'));
      let byKey = holdersByKind.get(kind);
      if (!byKey) holdersByKind.set(kind, (byKey = new Map()));
      const holders = byKey.get(key);
      if (holders) {
        if (holders[holders.length - 1] !== i) holders.push(i);
      } else byKey.set(key, [i]);
    }
  });
  const kindsInOrder = rules.linkOrder.filter((k) => holdersByKind.has(k));

  // 1. Anchors over uncapped keys; which uncapped kinds each anchor has ids of (a bit each).
  const uncapped = rules.linkOrder.filter((k) => rules.kinds.get(k)!.cap === null);
  const bit = new Map(uncapped.map((k, i) => [k, 1 << i] as const)); // at most 30 (resolveRules checks)
  const anchors = new UnionFind(n);
  const kindBits = new Int32Array(n);
  for (const kind of kindsInOrder) {
    const b = bit.get(kind);
    if (b === undefined) continue;
    for (const holders of holdersByKind.get(kind)!.values()) {
      for (const h of holders) kindBits[h] = kindBits[h]! | b;
      for (let j = 1; j < holders.length; j++) anchors.union(holders[0]!, holders[j]!);
    }
  }
  records.forEach((r, i) => {
    if (r.kinds) kindBits[i] = r.kinds.reduce((m, k) => m | (bit.get(k) ?? 0), 0);
  });
  const rootBits = new Int32Array(n);
  for (let i = 0; i < n; i++) if (kindBits[i]) {
    const root = anchors.find(i);
    rootBits[root] = rootBits[root]! | kindBits[i]!;
  }

  // 2. Caps.
  const keyState = new Map<string, KeyState>();
  const newlyCapped = new Map<string, number>();
  for (const kind of kindsInOrder) {
    const cap = rules.kinds.get(kind)!.cap;
    for (const [key, holders] of holdersByKind.get(kind)!) {
      if (cap === null) {
        keyState.set(key, 'link');
        continue;
      }
      if (alreadyCapped.has(key)) {
        keyState.set(key, 'capped');
        continue;
      }
      const count = holderCount(holders, anchors, rootBits, countMask(rules.kinds.get(kind)!.countBy, bit));
      if (count > cap) {
        keyState.set(key, 'capped');
        newlyCapped.set(key, count);
      } else keyState.set(key, 'link');
    }
  }

  // 3. Customers: pins first, then keys by priority, refusing to join two colours.
  const sets = new UnionFind(n);
  const colour = new Float64Array(n).fill(-1);
  const tree: Link[] = [];
  const join = (a: number, b: number, key: string): boolean => {
    const ra = sets.find(a);
    const rb = sets.find(b);
    if (ra === rb) return true;
    const ca = colour[ra]!;
    const cb = colour[rb]!;
    if (ca >= 0 && cb >= 0 && ca !== cb) return false;
    const root = sets.union(ra, rb);
    colour[root] = ca >= 0 ? ca : cb;
    tree.push({ from: records[a]!.ref, to: records[b]!.ref, key });
    return true;
  };
  const firstOfPin = new Map<number, number>();
  records.forEach((r, i) => {
    if (r.pinnedTo === null) return;
    colour[i] = r.pinnedTo;
    const first = firstOfPin.get(r.pinnedTo);
    if (first === undefined) firstOfPin.set(r.pinnedTo, i);
    else join(first, i, `pin:${r.pinnedTo}`);
  });
  for (const kind of kindsInOrder) {
    // A value that already reaches two pinned customers names neither: it links nobody, and
    // lower-priority keys decide. (Applied holder by holder, the first holder by ref won.)
    const usable: [string, number[]][] = [];
    for (const [key, holders] of holdersByKind.get(kind)!) {
      if (keyState.get(key) !== 'link') continue;
      if (coloursOf(holders, sets, colour) > 1) keyState.set(key, 'shared');
      else usable.push([key, holders]);
    }
    for (const [key, holders] of usable) {
      for (let j = 1; j < holders.length; j++) {
        // Join with any earlier holder this one may join: a join of this kind may have pinned the first.
        if (!join(holders[0]!, holders[j]!, key)) keyState.set(key, 'shared');
      }
    }
  }

  const byRoot = new Map<number, { refs: string[]; anchors: Set<number>; bits: number }>();
  records.forEach((r, i) => {
    const root = sets.find(i);
    let cluster = byRoot.get(root);
    if (!cluster) byRoot.set(root, (cluster = { refs: [], anchors: new Set(), bits: 0 }));
    cluster.refs.push(r.ref);
    const anchor = anchors.find(i);
    if (rootBits[anchor]) {
      cluster.anchors.add(anchor);
      cluster.bits |= rootBits[anchor]!;
    }
  });
  const sorted = [...byRoot.values()].sort((a, b) => (a.refs[0]! < b.refs[0]! ? -1 : 1));
  return {
    clusters: sorted.map((c) => c.refs),
    anchors: sorted.map((c) => c.anchors.size),
    kinds: sorted.map((c) => uncapped.filter((k) => (c.bits & bit.get(k)!) !== 0)),
    tree,
    newlyCapped,
    keyState,
  };
}

/** How many different pinned customers the sets of `holders` belong to. */
function coloursOf(holders: readonly number[], sets: UnionFind, colour: Float64Array): number {
  let first = -1;
  for (const h of holders) {
    const c = colour[sets.find(h)]!;
    if (c < 0 || c === first) continue;
    if (first >= 0) return 2;
    first = c;
  }
  return first >= 0 ? 1 : 0;
}

/** The bits of the kinds that tell holders apart (`cardinality_by`, default every uncapped kind). */
function countMask(countBy: readonly string[] | null, bit: ReadonlyMap<string, number>): number {
  if (countBy === null) return [...bit.values()].reduce((m, b) => m | b, 0);
  return countBy.reduce((m, k) => m | (bit.get(k) ?? 0), 0);
}

/** Holders of a capped value: per counted kind, the anchors holding it that have an id of that kind; the largest count. */
function holderCount(holders: readonly number[], anchors: UnionFind, rootBits: Int32Array, mask: number): number {
  const roots = new Set<number>();
  for (const h of holders) {
    const root = anchors.find(h);
    if (rootBits[root]) roots.add(root);
  }
  let best = 0;
  for (let k = 0; k < 30; k++) {
    if (!(mask & (1 << k))) continue;
    let count = 0;
    for (const root of roots) if (rootBits[root]! & (1 << k)) count++;
    if (count > best) best = count;
  }
  return best;
}
