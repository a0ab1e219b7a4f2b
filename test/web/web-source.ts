/**
 * The browser tests' source: a small scratch PostgreSQL "web shop" (`web_pg`) with accounts,
 * orders (with lines) and tickets, its config and mappings written to a temp folder. Orders
 * and tickets name their customer by shop account id, the identity kind a signed
 * `external_id` has (`gateway.external_id_kind: shop_account`), so a shopper signed in on
 * /demo/shop is linked to the customer who holds those orders and tickets.
 *
 * The orders mapping comes in two versions: version 1 knows no `ON_HOLD` status (such a row
 * is dead-lettered by the sync), version 2 maps it to `pending` (the fix that lets the dead
 * letter be replayed).
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { freshDatabase } from '../helpers/scratch-pool.js';

export const WEB_SOURCE = 'web_pg';
export const WEB_STREAMS = ['accounts', 'orders', 'tickets'] as const;
export const ADMIN_TOKEN = 'web-test-admin-token-0123456789';

export interface Shopper {
  /** Shop account id: what /demo/shop signs as `external_id`. */
  id: string;
  name: string;
  email: string;
}

export const SHOPPERS: readonly Shopper[] = [
  { id: 'S1001', name: '王芳', email: 'wang.fang@example.com' },
  { id: 'S1002', name: 'Li Lei', email: 'li.lei@example.com' },
  { id: 'S1003', name: 'Anna Berg', email: 'anna.berg@example.com' },
];

export const CANNED = [
  { id: 'order_status', title: 'Order status', text: 'Hi {{customer.name}}, your latest order {{orders.latest.order_no}} is {{orders.latest.status}}.' },
  { id: 'thanks', title: 'Thanks', text: 'Thank you for waiting.' },
];

export interface WebSource {
  url: string;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** `junction_test_<name>_src` afresh with the shop's tables and rows. */
export async function webSource(name: string): Promise<WebSource> {
  const { url, pool, close } = await freshDatabase(`junction_test_${name}_src`, 2);
  await pool.query(`CREATE SCHEMA shop;
    CREATE TABLE shop.accounts (id text PRIMARY KEY, full_name text NOT NULL, email text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE shop.orders (order_no text PRIMARY KEY, account_id text NOT NULL, status text NOT NULL, total text NOT NULL, lines jsonb NOT NULL,
      created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE shop.tickets (id text PRIMARY KEY, account_id text NOT NULL, subject text NOT NULL, body text NOT NULL, status text NOT NULL,
      created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);`);
  const t = (day: number) => `2026-01-${String(day).padStart(2, '0')}T08:00:00+08:00`;
  for (const [i, s] of SHOPPERS.entries()) {
    await pool.query('INSERT INTO shop.accounts VALUES ($1, $2, $3, $4, $4)', [s.id, s.name, s.email, t(1 + i)]);
  }
  const line = (sku: string, name: string, qty: number, price: string) => ({ sku, name, qty, unit_price: price });
  const orders: [string, string, string, string, object[], number][] = [
    ['WO1001', 'S1001', 'SHIPPED', '398.00', [line('TEA-01', '龙井茶 250g', 2, '149.00'), line('CUP-02', 'Glass cup', 1, '100.00')], 5],
    ['WO1002', 'S1001', 'PAID', '59.90', [line('BAG-07', 'Tote bag', 1, '59.90')], 7],
    ['WO1003', 'S1001', 'COMPLETED', '120.00', [line('SCF-11', '丝巾', 1, '120.00')], 9],
    ['WO2001', 'S1002', 'PAID', '35.00', [line('PEN-03', 'Fountain pen', 1, '35.00')], 6],
    ['WO2002', 'S1002', 'SHIPPED', '12.50', [line('INK-04', 'Ink', 5, '2.50')], 8],
  ];
  for (const [no, account, status, total, lines, day] of orders) {
    await pool.query('INSERT INTO shop.orders VALUES ($1, $2, $3, $4, $5, $6, $6)', [no, account, status, total, JSON.stringify(lines), t(day)]);
  }
  // status: 0 new, 1 in progress, 2 resolved, 3 closed (as the legacy ticket desk has it)
  const tickets: [string, string, string, string, number][] = [
    ['T5001', 'S1001', '物流查询：订单还没到', '0', 10],
    ['T5002', 'S1001', 'Refund for a broken cup', '1', 11],
    ['T5003', 'S1001', 'Old question, closed', '3', 3],
    ['T6001', 'S1002', 'Change delivery address', '0', 12],
  ];
  for (const [id, account, subject, status, day] of tickets) {
    await pool.query('INSERT INTO shop.tickets VALUES ($1, $2, $3, $4, $5, $6, $6)', [id, account, subject, `${subject} (body)`, status, t(day)]);
  }
  return {
    url,
    pool,
    close,
  };
}

const ORDER_STATUS_V1 = { PAID: 'paid', SHIPPED: 'shipped', COMPLETED: 'delivered', CANCELLED: 'cancelled' };
const ORDER_STATUS_V2 = { ...ORDER_STATUS_V1, ON_HOLD: 'pending' };

/** Writes the orders mapping of `version` into `dir` (version 2 fixes ON_HOLD). */
export function writeOrdersMapping(dir: string, version: 1 | 2): void {
  fs.writeFileSync(
    path.join(dir, `${WEB_SOURCE}.orders.yaml`),
    `version: 1
source: ${WEB_SOURCE}
stream: orders
target: order
key: order_no
identity:
  - { kind: shop_account, value: account_id }
fields:
  order_no: order_no
  # no default: a status this map does not know fails the record (dead letter)
  status: { from: status, map: ${JSON.stringify(version === 2 ? ORDER_STATUS_V2 : ORDER_STATUS_V1)} }
  total_amount: { from: total, parse: number }
  currency: "'CNY'"
  lines: lines
  ordered_at: created_at
  updated_at: updated_at
`,
  );
}

/** Writes junction.yaml and the mappings into `dir`; returns the config path. */
export function writeWebConfig(dir: string, sourceUrl: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, `${WEB_SOURCE}.accounts.yaml`),
    `version: 1
source: ${WEB_SOURCE}
stream: accounts
target: customer
key: id
identity:
  - { kind: shop_account, value: id }
  - { kind: email, value: email }
fields:
  name: { from: full_name, trim: true }
  email: email
  created_at: created_at
  updated_at: updated_at
`,
  );
  writeOrdersMapping(dir, 1);
  fs.writeFileSync(
    path.join(dir, `${WEB_SOURCE}.tickets.yaml`),
    `version: 1
source: ${WEB_SOURCE}
stream: tickets
target: ticket
key: id
identity:
  - { kind: shop_account, value: account_id }
fields:
  ticket_no: id
  subject: { from: subject, trim: true }
  body: body
  status: { from: status, map: { "0": open, "1": pending, "2": resolved, "3": closed } }
  created_at: created_at
  updated_at: updated_at
`,
  );
  const file = path.join(dir, 'junction.yaml');
  fs.writeFileSync(
    file,
    `version: 1
sources:
  ${WEB_SOURCE}:
    type: postgres
    description: the browser tests' web shop
    url: ${sourceUrl}
    max_connections: 2
    streams:
      accounts: { table: shop.accounts, cursor: [updated_at, id], key: id }
      orders: { table: shop.orders, cursor: [updated_at, order_no], key: order_no }
      tickets: { table: shop.tickets, cursor: [updated_at, id], key: id }
mappings:
  - ${WEB_SOURCE}.accounts.yaml
  - ${WEB_SOURCE}.orders.yaml
  - ${WEB_SOURCE}.tickets.yaml
schedules:
  - { name: web-tickets-hourly, sync: ${WEB_SOURCE}.tickets, cron: "0 * * * *" }
identity:
  default_region: CN
  kinds:
    shop_account: { priority: 90 }
    email: { priority: 50, normalize: email }
pipelines: { batch_size: 100, worker_concurrency: 2, attempts: 2, backoff_ms: 200 }
ops:
  admin_token: ${ADMIN_TOKEN}
`,
  );
  return file;
}
