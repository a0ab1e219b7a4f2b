/**
 * Why a customer's records are one customer: the resolution of its records replayed with
 * the current rules, as a tree of shared keys (the same computation that decided it), plus
 * the identities its records share and the merge log's history.
 */
import type pg from 'pg';
import { type EvidenceStep, chain, linkIndex } from '../resolve/assign.js';
import { partition } from '../resolve/partition.js';
import type { ResolveRules } from '../resolve/rules.js';
import type { CustomerId } from './find.js';
import { showCustomer, type CustomerView } from './show.js';

export interface Explanation {
  id: CustomerId;
  /** The records, each with the step that reaches it from the first record (null for the first). */
  chain: { record: string; via: EvidenceStep | null }[];
  /** Keys held by two or more of the customer's records. */
  shared: { key: string; state: string; records: string[] }[];
  /** Records the keys alone do not reach from the first: kept here by an unmerge's pin, or by rules since changed. */
  unexplained: { record: string; pinned: boolean }[];
  history: CustomerView['history'];
}

export async function explainCustomer(db: pg.ClientBase | pg.Pool, id: CustomerId, rules: ResolveRules): Promise<Explanation> {
  const view = await showCustomer(db, id);
  const refs = view.records.map((r) => `${r.source}/${r.stream}/${r.sourceKey}`);
  const capped = new Set(view.identities.filter((i) => i.state === 'capped').map((i) => `${i.kind}:${i.value}`));
  // Keys only: pins would join everything first and hide the keys that did the linking.
  const nodes = view.records.map((r, i) => ({ ref: refs[i]!, keys: r.keys, pinnedTo: null }));
  const p = partition(nodes, rules, capped);
  const index = linkIndex(p.tree);
  const first = refs[0];
  const out: Explanation['chain'] = [];
  const unexplained: Explanation['unexplained'] = [];
  // Each record's path from the first one; its last step is what joined it.
  for (const ref of refs) {
    if (ref === first) {
      out.push({ record: ref, via: null });
      continue;
    }
    const path = chain(index, new Set([ref]), new Set([first!]));
    if (path.length === 0) unexplained.push({ record: ref, pinned: view.records[refs.indexOf(ref)]!.pinned });
    else out.push({ record: ref, via: { from: path[0]!.to, to: ref, key: path[0]!.key } });
  }
  const holders = new Map<string, string[]>();
  view.records.forEach((r, i) => r.keys.forEach((k) => holders.set(k, [...(holders.get(k) ?? []), refs[i]!])));
  const state = new Map(view.identities.map((i) => [`${i.kind}:${i.value}`, i.state]));
  const shared = [...holders]
    .filter(([, rs]) => rs.length > 1)
    .map(([key, records]) => ({ key, state: state.get(key) ?? 'link', records }))
    .sort((a, b) => a.key.localeCompare(b.key));
  return { id, chain: out, shared, unexplained, history: view.history };
}
