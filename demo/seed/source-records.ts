/**
 * Turns one person into the records each legacy system holds about them, with the keys
 * those systems would really have: orders name the customer by CRM number or only by the
 * contact phone, tickets by email, phone or shop account, app users by a WeChat openid.
 * Every record keeps at least one usable key (placeholders only replace a key when another
 * one remains), so identity resolution can reach high recall on this estate.
 */
import { maybePlaceholder, messyEmail, messyPhone, PLACEHOLDER_EMAIL, PLACEHOLDER_PHONE } from './messiness.js';
import type { Person } from './people.js';
import type { Rng } from './rng.js';
import { REFERENCE_NOW, shanghai } from './rows.js';
import type { EstateBatch, ShopAccountRow, TruthRow } from './rows.js';
import { NICKNAME_DECORATIONS, ORDER_STATUSES, PRODUCTS, ROADS, TICKET_TEXTS_EN, TICKET_TEXTS_ZH } from './vocabulary.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Moments when a batch job touched many rows at once. Many records then share one
 * `updated_at`, which is exactly where a cursor that is not tie-safe loses or repeats rows.
 */
const TIES = {
  crm: Date.parse('2025-10-01T00:00:00Z'),
  shop: shanghai('2025-09-01T04:00:00'),
  orders: [shanghai('2025-11-12T02:00:00'), shanghai('2025-12-01T03:00:00')],
  ticketsAutoClose: shanghai('2025-12-31T23:59:59'),
  app: shanghai('2025-06-30T00:00:00'),
};

const OPENID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Counters for the ids each system hands out, shared by all people of one run. */
export interface IdCounters {
  account: number;
  address: number;
  order: number;
  ticket: number;
  objectId: number;
}

export function newCounters(): IdCounters {
  return { account: 10_001, address: 50_001, order: 1, ticket: 100_001, objectId: 0x10_0000 };
}

/** A time in [from, to], truncated to `unitMs` (legacy systems keep whole seconds). */
function between(rng: Rng, from: number, to: number, unitMs = 1): number {
  const t = from + Math.floor((to - from) * rng.faker.number.float({ min: 0, max: 1 }));
  return Math.floor(t / unitMs) * unitMs;
}

/** Later of a random update after `created` and, sometimes, a batch job's instant. */
function updatedAfter(rng: Rng, created: number, maxDays: number, tie: number | null, tieChance: number, unitMs: number): number {
  if (tie !== null && tie > created && tie <= REFERENCE_NOW && rng.chance(tieChance)) return tie;
  return between(rng, created, Math.min(REFERENCE_NOW, created + maxDays * DAY), unitMs);
}

const money = (cents: number) => (cents / 100).toFixed(2);

/** True when a record holds a real email and a real phone together. */
const bridges = (email: string | null | undefined, phone: string | null | undefined) =>
  Boolean(email && phone && email !== PLACEHOLDER_EMAIL && phone !== PLACEHOLDER_PHONE);

function truth(batch: EstateBatch, row: Omit<TruthRow, 'personId'>, person: Person): void {
  batch.truth.push({ ...row, personId: person.id });
}

/** Returns whether one of the records bridges email and phone (see {@link addPersonRecords}). */
function crmRecords(rng: Rng, p: Person, batch: EstateBatch): boolean {
  let bridged = false;
  for (const crmId of p.crmIds) {
    const email = p.email && rng.chance(0.9) ? messyEmail(rng, p.email) : null;
    const utc = rng.chance(0.2);
    const mobile = email !== null && rng.chance(0.05) ? null : messyPhone(rng, p.mobile, 'crm');
    bridged ||= bridges(email, mobile);
    batch.crmCustomers.push({
      crmId,
      name: p.latin ? p.fullName : rng.chance(0.9) ? p.fullName : `${p.romanised[0]} ${p.romanised[1]}`,
      email,
      mobile,
      vipLevel: rng.weighted([[0, 40], [1, 25], [2, 15], [3, 10], [4, 6], [5, 4]]),
      accountManager: rng.pick(['李经理', '王晓燕', 'Chen Jing', '赵磊', null]),
      updatedAt: updatedAfter(rng, p.since, 900, TIES.crm, 0.05, 1000),
      offset: utc ? '+00:00' : '+08:00',
    });
    truth(batch, { source: 'crm_oracle', stream: 'customers', sourceKey: crmId }, p);
  }
  return bridged;
}

function shopRecords(rng: Rng, p: Person, batch: EstateBatch, ids: IdCounters): ShopAccountRow[] {
  const accounts: ShopAccountRow[] = [];
  for (let i = 0; i < p.shopAccounts; i += 1) {
    const createdAt = between(rng, p.since, REFERENCE_NOW - DAY);
    const realEmail = p.email && rng.chance(0.85) ? messyEmail(rng, p.email) : null;
    const phone = maybePlaceholder(rng, messyPhone(rng, p.mobile, 'shop'), PLACEHOLDER_PHONE, 0.01, realEmail !== null);
    const [family, given] = p.romanised;
    const account: ShopAccountRow = {
      id: ids.account++,
      email: realEmail === null ? null : maybePlaceholder(rng, realEmail, PLACEHOLDER_EMAIL, 0.02, phone !== PLACEHOLDER_PHONE),
      phone,
      fullName: rng.weighted<string | null>([
        [p.fullName, 70],
        [p.latin ? `${family.toUpperCase()} ${given.toUpperCase()}` : `${p.fullName[0]} ${p.fullName.slice(1)}`, 10],
        [p.latin ? p.fullName : `${family} ${given}`, 10],
        [null, 10],
      ]),
      crmId: p.crmIds.length > 0 && rng.chance(0.7) ? (p.crmIds[0] as string) : null,
      createdAt,
      updatedAt: updatedAfter(rng, createdAt, 400, TIES.shop, 0.03, 1),
    };
    batch.shopAccounts.push(account);
    accounts.push(account);
    truth(batch, { source: 'shop_pg', stream: 'accounts', sourceKey: String(account.id) }, p);
    const addresses = 1 + (rng.chance(0.4) ? 1 : 0) + (rng.chance(0.1) ? 1 : 0);
    for (let a = 0; a < addresses; a += 1) {
      const province = rng.chance(0.15) ? p.place.province.replace(/省$/, '') : p.place.province;
      const id = ids.address++;
      batch.shopAddresses.push({
        id,
        accountId: account.id,
        province,
        city: p.place.city,
        line1: `${p.place.district}${rng.pick(ROADS)}${rng.int(1, 300)}号${rng.int(1, 20)}栋${rng.int(1, 30)}0${rng.int(1, 6)}`,
        postcode: p.place.postcode,
        updatedAt: between(rng, createdAt, REFERENCE_NOW),
      });
      truth(batch, { source: 'shop_pg', stream: 'addresses', sourceKey: String(id) }, p);
    }
  }
  return accounts;
}

function orderRecords(rng: Rng, p: Person, batch: EstateBatch, ids: IdCounters): string[] {
  const orderNos: string[] = [];
  for (let i = 0; i < p.orders; i += 1) {
    const createdAt = between(rng, p.since, REFERENCE_NOW - HOUR, 1000);
    const day = new Date(createdAt + 8 * HOUR).toISOString().slice(0, 10).replaceAll('-', '');
    const orderNo = `SO${day}${String(ids.order++).padStart(7, '0')}`;
    // A family shares the contact phone, so the clerk asks their member number more often.
    const customerNo = p.crmIds.length > 0 && rng.chance(p.familySize > 1 ? 0.9 : 0.7) ? rng.pick(p.crmIds) : null;
    const phone = messyPhone(rng, p.mobile, 'orders');
    let totalCents = 0;
    const lineCount = rng.weighted([[1, 50], [2, 30], [3, 15], [4, 5]]);
    for (let lineNo = 1; lineNo <= lineCount; lineNo += 1) {
      const [sku, name, price] = rng.pick(PRODUCTS);
      const qty = rng.weighted([[1, 80], [2, 15], [3, 5]]);
      const cents = Math.round(price * 100);
      totalCents += cents * qty;
      batch.orderLines.push({ orderNo, lineNo, sku, name, qty, unitPrice: money(cents) });
    }
    batch.orders.push({
      orderNo,
      customerNo,
      contactPhone:
        customerNo !== null && rng.chance(0.03) ? null : maybePlaceholder(rng, phone, PLACEHOLDER_PHONE, 0.01, customerNo !== null),
      status: rng.weighted(ORDER_STATUSES),
      totalAmount: money(totalCents),
      currency: rng.weighted([['CNY', 95], ['HKD', 4], ['USD', 1]]),
      createdAt,
      updatedAt: updatedAfter(rng, createdAt, 30, rng.pick(TIES.orders), 0.08, 1000),
    });
    orderNos.push(orderNo);
    truth(batch, { source: 'orders_soap', stream: 'orders', sourceKey: orderNo }, p);
  }
  return orderNos;
}

function ticketRecords(
  rng: Rng, p: Person, batch: EstateBatch, ids: IdCounters, accounts: ShopAccountRow[], orderNos: string[], bridged: boolean,
): void {
  for (let i = 0; i < p.tickets; i += 1) {
    const [subjectT, bodyT] = rng.pick(p.latin ? TICKET_TEXTS_EN : TICKET_TEXTS_ZH);
    const order = orderNos.length > 0 ? rng.pick(orderNos) : '';
    const fill = (t: string) => (order ? t.replace('{order}', order) : t.replace(/\s?\{order\}/, '')).trim();
    const hasEmail = p.email !== null;
    // A shared family phone is no key: family members write in with their email.
    const phoneWeight = p.familySize > 1 && hasEmail ? 0 : 35;
    const mode = rng.weighted([
      // email alone only links when some other record of theirs carries email and phone
      ['email', hasEmail && bridged ? 40 : 0],
      ['phone', phoneWeight],
      ['account', accounts.length > 0 ? 20 : 0],
      ['email+phone', hasEmail ? 15 : 0],
      ['phone', hasEmail ? 0 : 1],
    ] as const);
    const withEmail = mode === 'email' || mode === 'email+phone';
    const withPhone = mode === 'phone' || mode === 'email+phone' || (mode === 'account' && rng.chance(0.5));
    const createdAt = between(rng, p.since, REFERENCE_NOW - HOUR, 1000);
    const status = rng.weighted([[0, 15], [1, 15], [2, 40], [3, 30]]);
    const email = withEmail && p.email ? messyEmail(rng, p.email) : null;
    const id = ids.ticket++;
    batch.tickets.push({
      id,
      subject: fill(subjectT),
      body: fill(bodyT),
      status,
      priority: rng.weighted([[1, 30], [2, 55], [3, 15]]),
      customerEmail: email === null ? null : maybePlaceholder(rng, email, PLACEHOLDER_EMAIL, 0.02, withPhone || mode === 'account'),
      customerPhone: withPhone ? messyPhone(rng, p.mobile, 'tickets') : null,
      shopAccountId: mode === 'account' ? rng.pick(accounts).id : null,
      createdAt,
      updatedAt: updatedAfter(rng, createdAt, 10, status === 3 ? TIES.ticketsAutoClose : null, 0.3, 1000),
    });
    truth(batch, { source: 'tickets_php', stream: 'tickets', sourceKey: String(id) }, p);
  }
}

function appRecords(rng: Rng, p: Person, batch: EstateBatch, ids: IdCounters, bridged: boolean): void {
  for (let i = 0; i < p.appUsers; i += 1) {
    const createdAt = between(rng, p.since, REFERENCE_NOW - HOUR);
    const seconds = Math.floor(createdAt / 1000).toString(16).padStart(8, '0');
    const id = `${seconds}6a756e6374${(ids.objectId++).toString(16).padStart(6, '0')}`;
    // WeChat gives the phone; an email is optional, except for family members sharing a phone
    const email = p.email && rng.chance(p.familySize > 1 ? 0.85 : 0.3) ? messyEmail(rng, p.email) : undefined;
    const hasPhone = email === undefined || !bridged || rng.chance(0.9);
    let phone: string | number | undefined;
    if (hasPhone) {
      // An old app version saved the digits as a number (a double in BSON).
      phone = rng.chance(0.03) ? Number(p.mobile) : maybePlaceholder(rng, messyPhone(rng, p.mobile, 'app'), PLACEHOLDER_PHONE, 0.01, email !== undefined);
    }
    const base = p.latin ? p.romanised[1] : rng.pick([p.fullName, `小${p.fullName[0]}`, p.romanised[1].toLowerCase()]);
    const user = {
      id,
      openid: `o${rng.chars(OPENID_ALPHABET, 27)}`,
      ...(rng.chance(0.8) ? { unionid: `o${rng.chars(OPENID_ALPHABET, 27)}` } : {}),
      ...(phone === undefined ? {} : { phone }),
      nickname: base + rng.pick(NICKNAME_DECORATIONS),
      ...(email === undefined ? {} : { email }),
      createdAt,
      updatedAt: updatedAfter(rng, createdAt, 200, TIES.app, 0.03, 1),
    };
    batch.appUsers.push(user);
    truth(batch, { source: 'app_mongo', stream: 'users', sourceKey: id }, p);
  }
}

/**
 * Appends every record of `person` in every source to `batch`, plus its ground-truth rows.
 *
 * Orders only carry a phone, so an email-only ticket or app user can reach the person's
 * orders only through a record holding both (a CRM customer or shop account, usually).
 * People without such a bridge keep their phone on tickets and app users: real estates do
 * have unlinkable records, but this one is meant to allow recall ≥ 0.98.
 */
export function addPersonRecords(rng: Rng, person: Person, batch: EstateBatch, ids: IdCounters): void {
  const crmBridged = crmRecords(rng, person, batch);
  const accounts = shopRecords(rng, person, batch, ids);
  const bridged = crmBridged || accounts.some((a) => bridges(a.email, a.phone));
  const orderNos = orderRecords(rng, person, batch, ids);
  ticketRecords(rng, person, batch, ids, accounts, orderNos, bridged);
  appRecords(rng, person, batch, ids, bridged);
}
