/**
 * The ClickHouse feed of a batch (tables in sql/clickhouse/002_analytics.sql): which rows a
 * batch sends, how they are read from the unified view and how they are inserted. Syncs and
 * replays send them after COMMIT through the outbox (clickhouse-outbox.ts); a repair sends
 * them under the batch locks (clickhouse-repair.ts).
 *
 * Versions are microseconds of the PostgreSQL server's clock read just before the rows are
 * read, and builds take turns (or hold the locks that order them after any writer of the
 * same rows), so a later version always carries a later state: the latest state wins in the
 * ReplacingMergeTree views whichever process sends it, and a re-sent row (same data, later
 * clock) is harmless. One clock for every worker, too.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { JunctionError } from '../../config/errors.js';
import { silentLogger, type Logger } from '../../config/log.js';
import { clickhouseErrorCode, isRetryableClickhouseError } from './clickhouse-client.js';
import { DateTimeFitter } from './datetime.js';
import type { BatchResult } from '../load/apply-batch.js';
import type { TargetName } from '../model.js';

/** The rows of one batch, per ClickHouse table (tables without rows are left out). */
export type ClickhouseRows = Record<string, Record<string, unknown>[]>;

type Row = Record<string, unknown>;

// Whole seconds, floored: ClickHouse DateTime has no fraction, and rounding up could cross a
// month. Seconds a DateTime cannot hold (before 1970, after 2106) are sent as NULL (datetime.ts).
const epoch = (col: string) => `floor(extract(epoch FROM ${col}))::int8 AS ${col.replace(/^\w+\./, '')}`;

const ORDER_COLUMNS = [
  'o.source', 'o.stream', 'o.source_key', 'o.customer_id', `coalesce(o.order_no, '') AS order_no`, `coalesce(o.status, '') AS status`,
  'o.total_amount::text AS total_amount', `coalesce(o.currency, '') AS currency`, `coalesce(o.contact_phone, '') AS contact_phone`, 'o.lines',
  epoch('o.ordered_at'), epoch('o.updated_at'), epoch('o.synced_at'),
].join(', ');

const TICKET_COLUMNS = [
  't.source', 't.stream', 't.source_key', 't.customer_id', `coalesce(t.ticket_no, '') AS ticket_no`, `coalesce(t.subject, '') AS subject`,
  `coalesce(t.status, '') AS status`, `coalesce(t.priority, '') AS priority`,
  epoch('t.created_at'), epoch('t.updated_at'), epoch('t.first_response_at'), epoch('t.resolved_at'), epoch('t.synced_at'),
].join(', ');

/**
 * Orders or tickets: the batch's written and moved records, and every record of a merge's
 * survivor (its absorbed customers' records are now its own). Each key is looked up by the
 * primary key (`OFFSET 0` keeps the lookup a per-key subquery): a join of the key list with
 * the table let the planner hash the whole table for every batch, a cost that grew with it.
 */
function entitySql(table: string, alias: string, columns: string): string {
  return `SELECT e.* FROM unnest($1::text[], $2::text[], $3::text[]) AS k(source, stream, source_key)
            CROSS JOIN LATERAL (SELECT ${columns} FROM ${table} ${alias}
                                 WHERE ${alias}.source = k.source AND ${alias}.stream = k.stream AND ${alias}.source_key = k.source_key OFFSET 0) e
          UNION ALL
          SELECT ${columns} FROM ${table} ${alias} WHERE ${alias}.customer_id = ANY($4::bigint[])`;
}

// The birthday goes as 'YYYY-MM-DD' text, which the column holds (sql/clickhouse/004_*): a
// ClickHouse Date starts at 1970 and 18.16 has no Date32.
// The identity keys are the ones the customer's records carry (capped values included: they
// are still that customer's phone, they just link nothing). Each customer is looked up by id
// and its records read in one pass through the customer_id index (`OFFSET 0` keeps both
// per-customer subqueries): aggregating every match of the batch's ids first made the
// planner scan source_record twice and customer once for each batch, a cost that grew with
// the tables.
const CUSTOMER_SQL = `
  SELECT c.* FROM unnest($1::bigint[]) AS ids(id)
   CROSS JOIN LATERAL (
     SELECT c.id, coalesce(c.name, '') AS name, coalesce(c.email, '') AS email, coalesce(c.phone, '') AS phone,
            coalesce(c.gender, '') AS gender, to_char(c.birthday, 'YYYY-MM-DD') AS birthday, coalesce(c.province, '') AS province,
            coalesce(c.city, '') AS city, coalesce(c.vip_level, '') AS vip_level, coalesce(c.account_manager, '') AS account_manager,
            ${epoch('c.created_at')}, ${epoch('c.updated_at')}, c.merged_into,
            r.record_count, coalesce(r.sources, '{}') AS sources, coalesce(r.keys, '{}') AS keys
       FROM unified.customer c
      CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE k.n IS NULL OR k.n = 1)::int AS record_count,
               array_agg(DISTINCT sr.source ORDER BY sr.source) AS sources,
               array_agg(DISTINCT k.key ORDER BY k.key) FILTER (WHERE k.key IS NOT NULL) AS keys
          FROM unified.source_record sr
          LEFT JOIN LATERAL unnest(sr.identity_keys) WITH ORDINALITY AS k(key, n) ON true
         WHERE sr.customer_id = c.id) r
      WHERE c.id = ids.id OFFSET 0) c`;

/**
 * A decimal rounded half away from zero to cents, as a JSON number: ClickHouse 18.16 refuses
 * a Decimal(18, 2) value with more digits ("Decimal value is too small") and a quoted one.
 * Rounded on the text so 1.005 gives 1.01, not the 1.00 a float would.
 */
export function cents(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const text = String(v).trim();
  const m = /^([-+]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && !m[3])) {
    const n = Number(text);
    return Number.isFinite(n) ? Math.round(n * 100) / 100 : null;
  }
  const frac = (m[3] ?? '').padEnd(3, '0');
  let c = BigInt(m[2] || '0') * 100n + BigInt(frac.slice(0, 2));
  if (frac[2]! >= '5') c += 1n;
  const n = Number(c) / 100;
  return m[1] === '-' && n !== 0 ? -n : n;
}

function keysOf(result: BatchResult, target: TargetName): RecordKeys {
  const out: RecordKeys = { source: [], stream: [], key: [] };
  const add = (source: string, stream: string, key: string) => {
    out.source.push(source);
    out.stream.push(stream);
    out.key.push(key);
  };
  for (const w of result.written) if (w.record.target === target) add(w.record.source, w.record.stream, w.record.sourceKey);
  for (const m of result.moved) if (m.target === target) add(m.source, m.stream, m.sourceKey);
  return out;
}

/** Rows of a `source, stream, source_key` table, each once (a record can be both written and a survivor's). */
async function entityRows(tx: pg.ClientBase, table: string, alias: string, columns: string, keys: RecordKeys, survivors: number[]): Promise<Row[]> {
  if (keys.key.length === 0 && survivors.length === 0) return [];
  const { rows } = await tx.query<Row>(entitySql(table, alias, columns), [keys.source, keys.stream, keys.key, survivors]);
  const seen = new Set<string>();
  return rows.filter((r) => {
    const id = `${String(r.source)}\u0000${String(r.stream)}\u0000${String(r.source_key)}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

interface OrderLine {
  sku?: unknown;
  name?: unknown;
  qty?: unknown;
  unit_price?: unknown;
}

function orderRow(r: Row, version: number, t: DateTimeFitter): Row {
  const lines: OrderLine[] = Array.isArray(r.lines) ? (r.lines as OrderLine[]).filter((l) => l !== null && typeof l === 'object') : [];
  const text = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  return {
    source: r.source,
    stream: r.stream,
    source_key: r.source_key,
    customer_id: Number(r.customer_id),
    order_no: r.order_no,
    status: r.status,
    total_amount: cents(r.total_amount),
    currency: r.currency,
    contact_phone: r.contact_phone,
    ordered_at: t.nullable('orders', r.ordered_at),
    updated_at: t.nullable('orders', r.updated_at),
    line_sku: lines.map((l) => text(l.sku)),
    line_name: lines.map((l) => text(l.name)),
    line_qty: lines.map((l) => Math.trunc(Number(l.qty)) || 0),
    line_unit_price: lines.map((l) => cents(l.unit_price) ?? 0),
    // Not Nullable: the batch's own time (PostgreSQL's clock), so only a broken clock is clamped.
    synced_at: t.clamped('orders', Number(r.synced_at)),
    deleted: 0,
    version,
  };
}

function ticketRow(r: Row, version: number, t: DateTimeFitter): Row {
  return {
    source: r.source,
    stream: r.stream,
    source_key: r.source_key,
    customer_id: Number(r.customer_id),
    ticket_no: r.ticket_no,
    subject: r.subject,
    status: r.status,
    priority: r.priority,
    created_at: t.nullable('tickets', r.created_at),
    updated_at: t.nullable('tickets', r.updated_at),
    first_response_at: t.nullable('tickets', r.first_response_at),
    resolved_at: t.nullable('tickets', r.resolved_at),
    synced_at: t.clamped('tickets', Number(r.synced_at)),
    deleted: 0,
    version,
  };
}

function customerRow(r: Row, version: number, t: DateTimeFitter): Row {
  const keys = r.keys as string[];
  const split = keys.map((k) => [k.slice(0, k.indexOf(':')), k.slice(k.indexOf(':') + 1)] as const);
  return {
    customer_id: Number(r.id),
    name: r.name,
    email: r.email,
    phone: r.phone,
    gender: r.gender,
    birthday: r.birthday,
    province: r.province,
    city: r.city,
    vip_level: r.vip_level,
    account_manager: r.account_manager,
    created_at: t.nullable('customers', r.created_at),
    updated_at: t.nullable('customers', r.updated_at),
    identity_kinds: split.map(([kind]) => kind),
    identity_values: split.map(([, value]) => value),
    sources: r.sources,
    record_count: r.record_count,
    merged_into: r.merged_into === null ? 0 : Number(r.merged_into),
    // An absorbed customer's tombstone: customers_current leaves it out.
    deleted: r.merged_into === null ? 0 : 1,
    version,
  };
}

/** Records of one table named by their keys, as parallel arrays (what `unnest` takes). */
export interface RecordKeys {
  source: string[];
  stream: string[];
  key: string[];
}

/** What to send: records by key, every record of some customers, customer dimension rows. */
export interface RowSelection {
  orders: RecordKeys;
  tickets: RecordKeys;
  /** Customers whose every order and ticket is sent (a merge's survivors). */
  ownersOf: number[];
  customerIds: number[];
}

/** The PostgreSQL server's clock in microseconds, as SQL: the version of ClickHouse rows. */
export const PG_CLOCK_MICROS = '(extract(epoch FROM clock_timestamp()) * 1000000)::int8';

/**
 * Microseconds of the PostgreSQL server's clock: the version of rows built or run states sent
 * now, on the one clock every worker shares (`clock_timestamp()` moves within a transaction too).
 */
export async function pgClockVersion(tx: Pick<pg.ClientBase | pg.Pool, 'query'>): Promise<number> {
  const { rows } = await tx.query<{ v: string }>(`SELECT ${PG_CLOCK_MICROS} AS v`);
  return Number(rows[0]!.v);
}

/** Options of {@link buildRows}. */
export interface BuildOptions {
  /** Where a build that met times a DateTime cannot hold says how many (one line per build). @defaultValue silent */
  log?: Logger;
}

/**
 * The ClickHouse rows of `selection` as `tx` sees them, all with one version read from the
 * PostgreSQL clock now: the caller must already hold the locks that order it after any
 * concurrent writer of the same rows. One query per table.
 */
export async function buildRows(tx: pg.ClientBase, selection: RowSelection, options: BuildOptions = {}): Promise<ClickhouseRows> {
  const { orders: orderKeys, tickets: ticketKeys, ownersOf, customerIds } = selection;
  if (orderKeys.key.length === 0 && ticketKeys.key.length === 0 && ownersOf.length === 0 && customerIds.length === 0) return {};
  const version = await pgClockVersion(tx);
  const out: ClickhouseRows = {};
  const fit = new DateTimeFitter();
  const orders = await entityRows(tx, 'unified."order"', 'o', ORDER_COLUMNS, orderKeys, ownersOf);
  if (orders.length > 0) out.orders = orders.map((r) => orderRow(r, version, fit));
  const tickets = await entityRows(tx, 'unified.ticket', 't', TICKET_COLUMNS, ticketKeys, ownersOf);
  if (tickets.length > 0) out.tickets = tickets.map((r) => ticketRow(r, version, fit));
  if (customerIds.length > 0) {
    const { rows } = await tx.query<Row>(CUSTOMER_SQL, [customerIds]);
    if (rows.length > 0) out.customers = rows.map((r) => customerRow(r, version, fit));
  }
  if (fit.total > 0) {
    // Counts only: which records hold them is in PostgreSQL (a time before 1970 or after 2106).
    (options.log ?? silentLogger).warn({ outOfRange: fit.outside, version }, `ClickHouse: ${fit.total} times a DateTime cannot hold (before 1970 or after 2106) sent as NULL (synced_at clamped)`);
  }
  return out;
}

/**
 * What a batch must send, from what it wrote: its orders and tickets, those it moved to
 * another customer, every order and ticket of a merge's survivor, and the customer dimension
 * row (or tombstone) of every customer it touched.
 */
export function batchSelection(result: BatchResult): RowSelection {
  return {
    orders: keysOf(result, 'order'),
    tickets: keysOf(result, 'ticket'),
    ownersOf: [...new Set(result.absorbed.map((a) => a.into))],
    customerIds: result.customerIds,
  };
}

/**
 * The batch's rows built in `tx` (after `applyBatch`, before COMMIT, under its locks), as
 * batches sent them before the outbox: the tests use it to put rows of a rolled-back batch
 * into ClickHouse, which the repair must then find. One query per table.
 */
export async function clickhouseRowsForBatch(tx: pg.ClientBase, result: BatchResult): Promise<ClickhouseRows> {
  return buildRows(tx, batchSelection(result));
}

/** The advisory lock builds take turns on (class, key): see {@link buildRowsInTurn}. */
export const BUILD_TURN = [4_2002, 0] as const;

/**
 * {@link buildRows} in turn with every other build (a session-level advisory lock around the
 * clock read and the reads, given back before ClickHouse is written to): a build that starts
 * later reads a later clock and a later state, so versions order states even though no
 * resolution lock is held. `db` must not be in a transaction (a failed read would keep the
 * turn until the session ends); on a failure the caller should close the connection.
 */
export async function buildRowsInTurn(db: pg.ClientBase, selection: RowSelection, options: BuildOptions = {}): Promise<ClickhouseRows> {
  await db.query('SELECT pg_advisory_lock($1, $2)', [...BUILD_TURN]);
  try {
    return await buildRows(db, selection, options);
  } finally {
    await db.query('SELECT pg_advisory_unlock($1, $2)', [...BUILD_TURN]);
  }
}

/**
 * Inserts rows, one batched JSONEachRow insert per table, the tables at once. A failure is `SYNC_CLICKHOUSE_FAILED` naming the table (the first
 * table's, when several failed), retryable when ClickHouse was unreachable or overloaded,
 * not when it refused the rows (a missing table or column: run `junction migrate`). Rows
 * are versioned, so the tables that did take their rows take them again harmlessly when
 * they are sent again.
 */
export async function insertClickhouseRows(client: ClickHouseClient, rows: ClickhouseRows): Promise<void> {
  const tables = Object.entries(rows).filter(([, values]) => values.length > 0);
  const outcomes = await Promise.allSettled(tables.map(([table, values]) => client.insert({ table, values, format: 'JSONEachRow' })));
  const failed = outcomes.findIndex((o) => o.status === 'rejected');
  if (failed < 0) return;
  const [table, values] = tables[failed]!;
  const err = (outcomes[failed] as PromiseRejectedResult).reason as Error;
  const code = clickhouseErrorCode(err);
  throw new JunctionError('SYNC_CLICKHOUSE_FAILED', `inserting ${values.length} rows into ClickHouse table ${table} failed: ${err.message.split('\n')[0]}`, {
    cause: err,
    details: { table, ...(code === undefined ? {} : { clickhouseCode: code }) },
    retryable: isRetryableClickhouseError(err),
  });
}
