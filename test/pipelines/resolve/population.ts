/**
 * A small synthetic population of mapped records for determinism and concurrency tests:
 * people with CRM records, shop accounts, app users, orders and tickets, sharing keys the
 * way the demo estate does — families of two (under a phone cap of 2) and of three (over it),
 * orders known only by phone, placeholders.
 */
import seedrandom from 'seedrandom';
import type { MappedRecord } from '../../../pipelines/types.js';
import { mapped } from '../../helpers/unified.js';

export function population(people: number, seed = 'population'): MappedRecord[] {
  const rng = seedrandom(seed);
  const pick = <T>(items: T[]) => items[Math.floor(rng() * items.length)]!;
  const out: MappedRecord[] = [];
  let familyPhone = '';
  let familyLeft = 0;
  for (let i = 0; i < people; i++) {
    const email = `p${i}@example.cn`;
    let phone = `+86139${String(10_000_000 + i).slice(-8)}`;
    if (familyLeft > 0) {
      phone = familyPhone;
      familyLeft--;
    } else if (rng() < 0.15) {
      familyPhone = phone;
      familyLeft = pick([1, 2]); // families of 2 or 3
    }
    const crm = rng() < 0.6 ? `C${i}` : null;
    if (crm) out.push(mapped(`crm_oracle/customers/${crm}`, { target: 'crm_profile', fields: { crm_id: crm }, keys: [['crm_id', crm], ['email', email], ['phone', phone]] }));
    const shop = rng() < 0.6 ? `${1000 + i}` : null;
    if (shop) {
      const keys: [string, string][] = [['shop_account', shop], ['email', email], ['phone', phone]];
      if (crm && rng() < 0.5) keys.push(['crm_id', crm]);
      if (rng() < 0.05) keys.push(['email', 'test@test.com']);
      out.push(mapped(`shop_pg/accounts/${shop}`, { fields: { name: `P${i}` }, keys }));
    }
    if (rng() < 0.5) out.push(mapped(`app_mongo/users/u${i}`, { fields: { nickname: `n${i}` }, keys: [['email', email], ['phone', phone]] }));
    const orders = Math.floor(rng() * 3);
    for (let o = 0; o < orders; o++) {
      const keys: [string, string][] = crm && rng() < 0.5 ? [['crm_id', crm]] : [['phone', phone]];
      out.push(mapped(`orders_soap/orders/O${i}-${o}`, { target: 'order', fields: { order_no: `O${i}-${o}` }, keys }));
    }
    if (rng() < 0.3) {
      const keys: [string, string][] = [pick<[string, string]>([['email', email], ['phone', phone], ...(shop ? [['shop_account', shop] as [string, string]] : [])])];
      out.push(mapped(`tickets_php/tickets/${i}`, { target: 'ticket', fields: { ticket_no: String(i) }, keys }));
    }
  }
  return out;
}

/** The records shuffled and cut into batches of random sizes (seeded). */
export function shuffledBatches<T>(items: readonly T[], seed: string, maxBatch: number): T[][] {
  const rng = seedrandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  const batches: T[][] = [];
  for (let i = 0; i < copy.length; ) {
    const n = 1 + Math.floor(rng() * maxBatch);
    batches.push(copy.slice(i, i + n));
    i += n;
  }
  return batches;
}
