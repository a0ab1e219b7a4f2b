/**
 * The demo estate's rows (demo/seed, generated without any service) as each source's
 * connector hands them over: int8 ids as strings, timestamptz as UTC ISO-8601, SOAP orders
 * with `lines.line[]` and absent optional elements, the ticket API's all-text values and
 * Shanghai wall-clock times, Mongo documents without null fields. Tests use them to map
 * every demo stream without services; the benchmark uses them as realistic input.
 * `test/pipelines/map/estate-records.int.test.ts` checks them against the live connectors.
 */
import { DateTime } from 'luxon';
import type { SourceRecord } from '../../connectors/types.js';
import { generateEstate, type GenerateOptions } from '../../demo/seed/generate.js';
import { ESTATE_ZONE, type EstateBatch } from '../../demo/seed/rows.js';

/** `source.stream` of every demo stream. */
export const DEMO_STREAMS = [
  'orders_soap.orders',
  'tickets_php.tickets',
  'shop_pg.accounts',
  'shop_pg.addresses',
  'app_mongo.users',
  'crm_oracle.customers',
] as const;

export type DemoStream = (typeof DEMO_STREAMS)[number];

const iso = (ms: number) => new Date(ms).toISOString();
const shanghaiOffset = (ms: number) => DateTime.fromMillis(ms, { zone: ESTATE_ZONE }).toISO({ suppressMilliseconds: true }) as string;
const shanghaiLocal = (ms: number) => DateTime.fromMillis(ms, { zone: ESTATE_ZONE }).toFormat('yyyy-MM-dd HH:mm:ss');
const text = (v: number | null) => (v === null ? null : String(v));

/** The records of one stream in one generated batch. */
export function streamRecords(batch: EstateBatch, stream: DemoStream): SourceRecord[] {
  switch (stream) {
    case 'shop_pg.accounts':
      return batch.shopAccounts.map((a) => ({
        id: String(a.id),
        email: a.email,
        phone: a.phone,
        full_name: a.fullName,
        crm_id: a.crmId,
        created_at: iso(a.createdAt),
        updated_at: iso(a.updatedAt),
      }));
    case 'shop_pg.addresses':
      return batch.shopAddresses.map((a) => ({
        id: String(a.id),
        account_id: String(a.accountId),
        province: a.province,
        city: a.city,
        line1: a.line1,
        postcode: a.postcode,
        updated_at: iso(a.updatedAt),
      }));
    case 'orders_soap.orders': {
      const lines = new Map<string, SourceRecord[]>();
      for (const l of batch.orderLines) {
        const line = { lineNo: l.lineNo, sku: l.sku, name: l.name, qty: l.qty, unitPrice: l.unitPrice };
        lines.set(l.orderNo, [...(lines.get(l.orderNo) ?? []), line]);
      }
      return batch.orders.map((o) => ({
        orderNo: o.orderNo,
        ...(o.customerNo === null ? {} : { customerNo: o.customerNo }),
        ...(o.contactPhone === null ? {} : { contactPhone: o.contactPhone }),
        status: o.status,
        totalAmount: o.totalAmount,
        currency: o.currency,
        createdAt: shanghaiOffset(o.createdAt),
        updatedAt: shanghaiOffset(o.updatedAt),
        lines: { line: lines.get(o.orderNo) ?? [] },
      }));
    }
    case 'tickets_php.tickets':
      return batch.tickets.map((t) => ({
        id: String(t.id),
        subject: t.subject,
        body: t.body,
        status: String(t.status),
        priority: String(t.priority),
        customer_email: t.customerEmail,
        customer_phone: t.customerPhone,
        shop_account_id: text(t.shopAccountId),
        created_at: shanghaiLocal(t.createdAt),
        updated_at: shanghaiLocal(t.updatedAt),
      }));
    case 'app_mongo.users':
      return batch.appUsers.map((u) => ({
        _id: u.id,
        openid: u.openid,
        ...(u.unionid === undefined ? {} : { unionid: u.unionid }),
        ...(u.phone === undefined ? {} : { phone: u.phone }),
        nickname: u.nickname,
        ...(u.email === undefined ? {} : { email: u.email }),
        createdAt: iso(u.createdAt),
        updatedAt: iso(u.updatedAt),
      }));
    case 'crm_oracle.customers':
      return batch.crmCustomers.map((c) => ({
        CRM_ID: c.crmId,
        NAME: c.name,
        EMAIL: c.email,
        MOBILE: c.mobile,
        VIP_LEVEL: c.vipLevel,
        ACCOUNT_MANAGER: c.accountManager,
        UPDATED_AT: iso(c.updatedAt),
      }));
  }
}

/** Every demo stream's records for a generated estate (default: the default demo estate). */
export function estateRecords(options: GenerateOptions = {}): Record<DemoStream, SourceRecord[]> {
  const out = Object.fromEntries(DEMO_STREAMS.map((s) => [s, [] as SourceRecord[]])) as Record<DemoStream, SourceRecord[]>;
  for (const batch of generateEstate(options)) {
    for (const stream of DEMO_STREAMS) out[stream].push(...streamRecords(batch, stream));
  }
  return out;
}
