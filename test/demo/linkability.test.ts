/**
 * The estate promises that identity resolution can reach recall ≥ 0.98: this links records
 * the simplest way (shared normalised email, phone, CRM id or shop account id; placeholders
 * blocked) and scores the clusters against the ground truth with pairwise recall. Once with
 * every phone, once with shared family phones blocked too, as a cardinality cap would.
 */
import { describe, expect, it } from 'vitest';
import { generateEstate } from '../../demo/seed/generate.js';
import { PLACEHOLDER_EMAIL, PLACEHOLDER_PHONE } from '../../demo/seed/messiness.js';

type Keys = Array<string | null>;
const email = (e: string | null | undefined) => (e ? `e:${e.trim().toLowerCase()}` : null);
const phone = (p: string | number | null | undefined) => {
  const digits = p === null || p === undefined ? '' : String(p).replace(/\D/g, '');
  return digits.length >= 11 ? `p:${digits.slice(-11)}` : null;
};

function recordsWithKeys(scale: number): Array<{ id: string; person: string; keys: Keys }> {
  const out: Array<{ id: string; person: string; keys: Keys }> = [];
  for (const b of generateEstate({ scale, seed: 'linkability' })) {
    const person = new Map(b.truth.map((t) => [`${t.stream}/${t.sourceKey}`, t.personId]));
    const add = (stream: string, key: string | number, keys: Keys) =>
      out.push({ id: `${stream}/${key}`, person: person.get(`${stream}/${key}`) as string, keys });
    for (const r of b.crmCustomers) add('customers', r.crmId, [email(r.email), phone(r.mobile), `c:${r.crmId}`]);
    for (const r of b.shopAccounts) add('accounts', r.id, [email(r.email), phone(r.phone), r.crmId && `c:${r.crmId}`, `a:${r.id}`]);
    for (const r of b.shopAddresses) add('addresses', r.id, [`a:${r.accountId}`]);
    for (const r of b.orders) add('orders', r.orderNo, [r.customerNo && `c:${r.customerNo}`, phone(r.contactPhone)]);
    for (const r of b.tickets) add('tickets', r.id, [email(r.customerEmail), phone(r.customerPhone), r.shopAccountId === null ? null : `a:${r.shopAccountId}`]);
    for (const r of b.appUsers) add('users', r.id, [email(r.email), phone(r.phone)]);
  }
  return out;
}

function pairwiseRecall(records: ReturnType<typeof recordsWithKeys>, blocked: Set<string>): number {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    parent.set(x, root);
    return root;
  };
  const node = (x: string) => {
    if (!parent.has(x)) parent.set(x, x);
    return find(x);
  };
  for (const r of records) {
    const self = node(r.id);
    for (const k of r.keys) if (k && !blocked.has(k)) parent.set(node(k), find(self));
  }
  const clustersOf = new Map<string, Map<string, number>>();
  for (const r of records) {
    const m = clustersOf.get(r.person) ?? new Map<string, number>();
    const c = find(r.id);
    m.set(c, (m.get(c) ?? 0) + 1);
    clustersOf.set(r.person, m);
  }
  const pairs = (n: number) => (n * (n - 1)) / 2;
  let truePairs = 0;
  let found = 0;
  for (const m of clustersOf.values()) {
    let total = 0;
    for (const n of m.values()) {
      total += n;
      found += pairs(n);
    }
    truePairs += pairs(total);
  }
  return found / truePairs;
}

describe('estate linkability', () => {
  const records = recordsWithKeys(5000);
  const placeholders = new Set([`e:${PLACEHOLDER_EMAIL}`, `p:${PLACEHOLDER_PHONE}`]);

  it('reaches pairwise recall ≥ 0.98 with placeholders blocked', () => {
    expect(pairwiseRecall(records, placeholders)).toBeGreaterThanOrEqual(0.98);
  });

  it('still reaches ≥ 0.98 when phones shared by several people are blocked as well', () => {
    const owners = new Map<string, Set<string>>();
    for (const r of records) {
      for (const k of r.keys) if (k?.startsWith('p:')) owners.set(k, (owners.get(k) ?? new Set()).add(r.person));
    }
    const shared = [...owners].filter(([, people]) => people.size > 1).map(([k]) => k);
    expect(shared.length).toBeGreaterThan(0);
    expect(pairwiseRecall(records, new Set([...placeholders, ...shared]))).toBeGreaterThanOrEqual(0.98);
  });
});
