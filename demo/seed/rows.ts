/**
 * The rows the generator produces, one type per legacy table or collection, and the batch
 * that carries them from the pure generator to the writers. Times are epoch milliseconds;
 * each writer formats them the way its system stores them.
 */
import { DateTime } from 'luxon';

/**
 * The estate's fixed "now": every timestamp is drawn before it, so a seed reproduces the
 * same data on any day. Never the wall clock.
 */
export const REFERENCE_NOW = DateTime.fromISO('2026-01-01T00:00:00+08:00').toMillis();

/** Legacy systems' local zone (tickets store local wall-clock time, orders print it). */
export const ESTATE_ZONE = 'Asia/Shanghai';

/** Milliseconds of a Shanghai wall-clock time, for the fixed batch-job instants below. */
export function shanghai(local: string): number {
  return DateTime.fromISO(local, { zone: ESTATE_ZONE }).toMillis();
}

/** `CRM.CUSTOMERS` (Oracle). */
export interface CrmCustomerRow {
  crmId: string;
  name: string;
  email: string | null;
  mobile: string | null;
  vipLevel: number;
  accountManager: string | null;
  updatedAt: number;
  /** The offset the row was written with: the CRM UI writes +08:00, a nightly import UTC. */
  offset: '+08:00' | '+00:00';
}

/** `shop.accounts` (PostgreSQL). */
export interface ShopAccountRow {
  id: number;
  email: string | null;
  phone: string | null;
  fullName: string | null;
  crmId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** `shop.addresses` (PostgreSQL). */
export interface ShopAddressRow {
  id: number;
  accountId: number;
  province: string;
  city: string;
  line1: string;
  postcode: string | null;
  updatedAt: number;
}

/** `orders_legacy.orders`, served by the SOAP service. */
export interface OrderRow {
  orderNo: string;
  customerNo: string | null;
  contactPhone: string | null;
  status: string;
  /** Decimal string with two places, e.g. `"398.00"`. */
  totalAmount: string;
  currency: string;
  createdAt: number;
  updatedAt: number;
}

/** `orders_legacy.order_lines`. */
export interface OrderLineRow {
  orderNo: string;
  lineNo: number;
  sku: string;
  name: string;
  qty: number;
  unitPrice: string;
}

/** `tickets_legacy.tickets`, served by the PHP REST API. */
export interface TicketRow {
  id: number;
  subject: string;
  body: string;
  /** 0 待处理, 1 处理中, 2 已解决, 3 已关闭. */
  status: number;
  /** 1 low, 2 normal, 3 urgent. */
  priority: number;
  customerEmail: string | null;
  customerPhone: string | null;
  shopAccountId: number | null;
  createdAt: number;
  updatedAt: number;
}

/** `app.users` (MongoDB). Optional fields are absent from the document, not null. */
export interface AppUserRow {
  /** 24 hex digits of the ObjectId. */
  id: string;
  openid: string;
  unionid?: string;
  /** A string, except from one old app version that stored a number. */
  phone?: string | number;
  nickname: string;
  email?: string;
  createdAt: number;
  updatedAt: number;
}

/** One line of `ground_truth.csv`: which hidden person a source record belongs to. */
export interface TruthRow {
  source: 'crm_oracle' | 'shop_pg' | 'orders_soap' | 'tickets_php' | 'app_mongo';
  stream: 'customers' | 'accounts' | 'addresses' | 'orders' | 'tickets' | 'users';
  sourceKey: string;
  personId: string;
}

/** Everything generated for a slice of people, in generation order. */
export interface EstateBatch {
  crmCustomers: CrmCustomerRow[];
  shopAccounts: ShopAccountRow[];
  shopAddresses: ShopAddressRow[];
  orders: OrderRow[];
  orderLines: OrderLineRow[];
  tickets: TicketRow[];
  appUsers: AppUserRow[];
  truth: TruthRow[];
}

export function emptyBatch(): EstateBatch {
  return {
    crmCustomers: [],
    shopAccounts: [],
    shopAddresses: [],
    orders: [],
    orderLines: [],
    tickets: [],
    appUsers: [],
    truth: [],
  };
}
