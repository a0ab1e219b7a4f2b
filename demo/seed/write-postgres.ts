/**
 * Loads the PostgreSQL-backed systems (shop, orders_legacy, tickets_legacy) of the estate.
 * One `INSERT … SELECT FROM unnest(array params)` per table and batch: a single parameter
 * per column whatever the row count, so 5,000-row statements stay cheap without COPY
 * (and without an extra dependency for it).
 */
import { readFile } from 'node:fs/promises';
import { DateTime } from 'luxon';
import path from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../../config/env.js';
import { ESTATE_ZONE, type EstateBatch } from './rows.js';

export const ESTATE_DDL = path.join(PROJECT_ROOT, 'demo', 'sql', 'estate.sql');

const iso = (ms: number) => new Date(ms).toISOString();
/** Tickets keep Shanghai wall-clock time without a zone, like the PHP app's date(). */
const shanghaiLocal = (ms: number) => DateTime.fromMillis(ms, { zone: ESTATE_ZONE }).toFormat('yyyy-MM-dd HH:mm:ss');

interface Table<Row> {
  name: string;
  /** [column, PostgreSQL array type, value of a row]. */
  columns: ReadonlyArray<readonly [string, string, (row: Row) => unknown]>;
}

const TABLES = {
  shopAccounts: {
    name: 'shop.accounts',
    columns: [
      ['id', 'bigint[]', (r) => r.id],
      ['email', 'text[]', (r) => r.email],
      ['phone', 'text[]', (r) => r.phone],
      ['full_name', 'text[]', (r) => r.fullName],
      ['crm_id', 'text[]', (r) => r.crmId],
      ['created_at', 'timestamptz[]', (r) => iso(r.createdAt)],
      ['updated_at', 'timestamptz[]', (r) => iso(r.updatedAt)],
    ],
  } satisfies Table<EstateBatch['shopAccounts'][number]>,
  shopAddresses: {
    name: 'shop.addresses',
    columns: [
      ['id', 'bigint[]', (r) => r.id],
      ['account_id', 'bigint[]', (r) => r.accountId],
      ['province', 'text[]', (r) => r.province],
      ['city', 'text[]', (r) => r.city],
      ['line1', 'text[]', (r) => r.line1],
      ['postcode', 'text[]', (r) => r.postcode],
      ['updated_at', 'timestamptz[]', (r) => iso(r.updatedAt)],
    ],
  } satisfies Table<EstateBatch['shopAddresses'][number]>,
  orders: {
    name: 'orders_legacy.orders',
    columns: [
      ['order_no', 'text[]', (r) => r.orderNo],
      ['customer_no', 'text[]', (r) => r.customerNo],
      ['contact_phone', 'text[]', (r) => r.contactPhone],
      ['status', 'text[]', (r) => r.status],
      ['total_amount', 'numeric[]', (r) => r.totalAmount],
      ['currency', 'text[]', (r) => r.currency],
      ['created_at', 'timestamptz[]', (r) => iso(r.createdAt)],
      ['updated_at', 'timestamptz[]', (r) => iso(r.updatedAt)],
    ],
  } satisfies Table<EstateBatch['orders'][number]>,
  orderLines: {
    name: 'orders_legacy.order_lines',
    columns: [
      ['order_no', 'text[]', (r) => r.orderNo],
      ['line_no', 'int[]', (r) => r.lineNo],
      ['sku', 'text[]', (r) => r.sku],
      ['name', 'text[]', (r) => r.name],
      ['qty', 'int[]', (r) => r.qty],
      ['unit_price', 'numeric[]', (r) => r.unitPrice],
    ],
  } satisfies Table<EstateBatch['orderLines'][number]>,
  tickets: {
    name: 'tickets_legacy.tickets',
    columns: [
      ['id', 'bigint[]', (r) => r.id],
      ['subject', 'text[]', (r) => r.subject],
      ['body', 'text[]', (r) => r.body],
      ['status', 'smallint[]', (r) => r.status],
      ['priority', 'smallint[]', (r) => r.priority],
      ['customer_email', 'text[]', (r) => r.customerEmail],
      ['customer_phone', 'text[]', (r) => r.customerPhone],
      ['shop_account_id', 'bigint[]', (r) => r.shopAccountId],
      ['created_at', 'timestamp[]', (r) => shanghaiLocal(r.createdAt)],
      ['updated_at', 'timestamp[]', (r) => shanghaiLocal(r.updatedAt)],
    ],
  } satisfies Table<EstateBatch['tickets'][number]>,
};

/** Rows per statement: large enough to amortise round trips, small enough for modest memory. */
const ROWS_PER_STATEMENT = 5000;

async function insertRows<Row>(client: pg.ClientBase, table: Table<Row>, rows: readonly Row[]): Promise<void> {
  const names = table.columns.map(([c]) => c).join(', ');
  const unnest = table.columns.map(([, type], i) => `$${i + 1}::${type}`).join(', ');
  const sql = `INSERT INTO ${table.name} (${names}) SELECT * FROM unnest(${unnest})`;
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const slice = rows.slice(start, start + ROWS_PER_STATEMENT);
    await client.query(sql, table.columns.map(([, , get]) => slice.map(get)));
  }
}

/**
 * Writes the estate's PostgreSQL tables inside one transaction: readers (the PHP apps, the
 * hub's connectors) see either the previous estate or the complete new one.
 */
export class EstatePgWriter {
  private constructor(private readonly client: pg.Client) {}

  /** Connects, opens the transaction and recreates the schemas from `demo/sql/estate.sql`. */
  static async open(url: string): Promise<EstatePgWriter> {
    const client = new pg.Client({ connectionString: url, application_name: 'junction-demo-seed' });
    await client.connect();
    try {
      await client.query('BEGIN');
      // Drop/recreate must not wait forever behind a long reader; fail clearly instead.
      await client.query("SET LOCAL lock_timeout = '30s'");
      await client.query(await readFile(ESTATE_DDL, 'utf8'));
      return new EstatePgWriter(client);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  async write(batch: EstateBatch): Promise<void> {
    await insertRows(this.client, TABLES.shopAccounts, batch.shopAccounts);
    await insertRows(this.client, TABLES.shopAddresses, batch.shopAddresses);
    await insertRows(this.client, TABLES.orders, batch.orders);
    await insertRows(this.client, TABLES.orderLines, batch.orderLines);
    await insertRows(this.client, TABLES.tickets, batch.tickets);
  }

  /** Commits, refreshes planner statistics and disconnects. */
  async commit(): Promise<void> {
    try {
      await this.client.query('COMMIT');
      await this.client.query('ANALYZE shop.accounts, shop.addresses, orders_legacy.orders, orders_legacy.order_lines, tickets_legacy.tickets');
    } finally {
      await this.client.end();
    }
  }

  /** Rolls back (the previous estate stays) and disconnects; never throws. */
  async abort(): Promise<void> {
    await this.client.query('ROLLBACK').catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}

/**
 * Creates the estate database when the server lacks it (an external `JUNCTION_PG_URL`, say);
 * the local stack creates it itself. `serverUrl` names an existing database on that server
 * (the hub's).
 */
export async function ensureDatabase(serverUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, application_name: 'junction-demo-seed' });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)} ENCODING 'UTF8' TEMPLATE template0`);
    }
  } catch (err) {
    // Two seeds racing to create it: the loser's duplicate_database is fine.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}
