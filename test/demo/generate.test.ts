/**
 * The estate generator without services: deterministic, independent of batching, and
 * producing data each legacy system can actually hold.
 */
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { digestEstate, generateEstate } from '../../demo/seed/generate.js';
import { PLACEHOLDER_EMAIL, PLACEHOLDER_PHONE } from '../../demo/seed/messiness.js';
import { REFERENCE_NOW } from '../../demo/seed/rows.js';

/** Every row of an estate, per table. */
function all(options: Parameters<typeof generateEstate>[0]) {
  const batches = [...generateEstate(options)];
  return {
    crm: batches.flatMap((b) => b.crmCustomers),
    accounts: batches.flatMap((b) => b.shopAccounts),
    orders: batches.flatMap((b) => b.orders),
    tickets: batches.flatMap((b) => b.tickets),
    users: batches.flatMap((b) => b.appUsers),
    truth: batches.flatMap((b) => b.truth),
  };
}

describe('generateEstate', () => {
  it('is deterministic: same seed, same counts and hash; another seed, another hash', () => {
    const a = digestEstate({ scale: 500, seed: 42 });
    const b = digestEstate({ scale: 500, seed: 42 });
    const c = digestEstate({ scale: 500, seed: 43 });
    expect(b).toEqual(a);
    expect(c.groundTruthSha256).not.toBe(a.groundTruthSha256);
    expect(a.groundTruthSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on the batch size', () => {
    expect(digestEstate({ scale: 300, seed: 's', batchPeople: 7 })).toEqual(digestEstate({ scale: 300, seed: 's', batchPeople: 1000 }));
  });

  it('rejects bad options by name', () => {
    expect(() => digestEstate({ scale: 1.5 })).toThrow(/scale/);
    expect(() => digestEstate({ scale: 10, batchPeople: 0 })).toThrow(/batchPeople/);
    expect(() => digestEstate({ seed: '' })).toThrow(/seed/);
  });

  const estate = all({ scale: 2000, seed: 'invariants' });

  it('has one ground-truth row per record, with unique keys per stream', () => {
    const records = estate.crm.length + estate.accounts.length + estate.orders.length + estate.tickets.length + estate.users.length;
    const addresses = estate.truth.filter((t) => t.stream === 'addresses').length;
    expect(estate.truth).toHaveLength(records + addresses);
    const keys = new Set(estate.truth.map((t) => `${t.source}/${t.stream}/${t.sourceKey}`));
    expect(keys.size).toBe(estate.truth.length);
  });

  it('keeps every time before the fixed reference now, and creation before update', () => {
    for (const r of [...estate.accounts, ...estate.orders, ...estate.tickets, ...estate.users]) {
      expect(r.updatedAt).toBeLessThanOrEqual(REFERENCE_NOW);
      expect(r.createdAt).toBeLessThanOrEqual(r.updatedAt);
    }
  });

  it('has the mess identity resolution must handle', () => {
    const phones = estate.orders.map((o) => o.contactPhone ?? '');
    expect(phones.some((p) => /^0086-1\d{2}-\d{4}-\d{4}$/.test(p))).toBe(true);
    expect(phones.some((p) => /^1\d{10}$/.test(p))).toBe(true);
    expect(estate.crm.some((c) => /^\+86 1\d{2} \d{4} \d{4}$/.test(c.mobile ?? ''))).toBe(true);
    expect(estate.accounts.some((a) => a.email === PLACEHOLDER_EMAIL)).toBe(true);
    expect(estate.accounts.some((a) => a.phone === PLACEHOLDER_PHONE)).toBe(true);
    expect(estate.accounts.some((a) => a.email !== null && a.email !== a.email.trim())).toBe(true);
    expect(estate.orders.some((o) => o.customerNo === null)).toBe(true);
    expect(estate.tickets.some((t) => t.shopAccountId !== null && t.customerEmail === null)).toBe(true);
    expect(estate.users.some((u) => typeof u.phone === 'number')).toBe(true);
    // a family: several people behind one phone
    const owners = new Map<string, Set<string>>();
    const personOf = new Map(estate.truth.map((t) => [`${t.stream}/${t.sourceKey}`, t.personId]));
    for (const o of estate.orders) {
      const digits = (o.contactPhone ?? '').replace(/\D/g, '').slice(-11);
      if (digits.length === 11 && digits !== PLACEHOLDER_PHONE) {
        owners.set(digits, (owners.get(digits) ?? new Set()).add(personOf.get(`orders/${o.orderNo}`) ?? ''));
      }
    }
    expect([...owners.values()].some((s) => s.size > 1)).toBe(true);
  });

  it('writes ticket text the GBK API can carry unchanged', () => {
    for (const t of estate.tickets) {
      for (const text of [t.subject, t.body]) expect(iconv.decode(iconv.encode(text, 'gbk'), 'gbk')).toBe(text);
    }
    expect(estate.tickets.some((t) => /[\u4e00-\u9fa5]/.test(t.subject))).toBe(true);
  });
});
