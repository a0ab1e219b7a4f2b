/**
 * Puts right what ClickHouse holds but the unified view does not. Until 2026-11-23 a batch
 * sent its rows before COMMIT, so when its transaction rolled back (a worker killed
 * mid-batch, a failed commit) ClickHouse kept them: the re-run of the batch re-sent its
 * records with a later version, but not everything: a customer created by the rolled-back
 * attempt got an id the re-run does not reuse (a "ghost" in `customers_current`), and a merge
 * the re-run no longer makes left records pointing at the wrong customer. Batches now send
 * after COMMIT (clickhouse-outbox.ts), which makes no ghosts, but analytics written before
 * that, and changes made outside the sync (`junction customers unmerge`), are caught here.
 * So are three kinds of rows older versions wrote wrong: customers sent before ClickHouse
 * migration 004, whose birthday reads NULL (re-sent when PostgreSQL has one); customers whose
 * record count disagrees with PostgreSQL (a customer an order or ticket left was not re-sent,
 * so it kept the record's count, source and keys); and sync runs sent before migration 003,
 * with no trigger (clickhouse-repair-runs.ts). Sync runs whose final row was lost (ClickHouse
 * shows them running, `hub.sync_run` has ended them) are re-sent too.
 *
 * Only rows whose latest version is older than every open PostgreSQL transaction are
 * checked (versions and transaction starts come from the same PostgreSQL clock), so the
 * transaction that wrote them has ended: when it committed, PostgreSQL agrees; when it
 * rolled back, the rows are compared with what PostgreSQL holds and re-sent, or tombstoned
 * when PostgreSQL has no such record or customer. Re-sending takes the same locks as a
 * batch (the records' advisory stripes, then customer and record rows) and its turn among
 * row builds, so a batch running meanwhile sends its rows with a later version and wins.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { recordRef } from '../resolve/keys.js';
import { lockStripes } from '../resolve/region.js';
import { BUILD_TURN, buildRows, insertClickhouseRows, pgClockVersion, type ClickhouseRows, type RecordKeys } from './clickhouse.js';
import { repairRunEnds, repairRunTriggers, type RunRepairCounts } from './clickhouse-repair-runs.js';

/** Options of {@link repairClickhouse}. */
export interface RepairOptions {
  /**
   * Check only rows whose latest version (PostgreSQL clock, microseconds) is at least this,
   * e.g. the start of the oldest run that did not finish. @defaultValue 0 (every row)
   */
  since?: number;
  /** The resolver's advisory-lock stripe count (`rules.lockStripes`). @defaultValue 256 */
  lockStripes?: number;
}

export interface RepairCounts {
  customers: number;
  orders: number;
  tickets: number;
}

/** What a repair found and did. */
export interface RepairSummary {
  /** Rows old enough to check (their writers have finished). */
  checked: RepairCounts;
  /** Rows sent again with PostgreSQL's current state. */
  resent: RepairCounts;
  /** Rows hidden from the views: PostgreSQL has no such customer or record. */
  tombstoned: RepairCounts;
  /**
   * Customers among `resent` sent again for their birthday alone: ClickHouse reads it NULL
   * (sent before migration 004), PostgreSQL has one.
   */
  birthdays: number;
  /**
   * Customers among `resent` sent again because their record count disagreed: older versions
   * did not re-send a customer an order or ticket left, so ClickHouse kept its old record
   * count, sources and identity keys (the moved record's keys on two live customers).
   */
  recordCounts: number;
  /** Sync runs ClickHouse has with no trigger (sent before migration 003). */
  syncRuns: RunRepairCounts;
  /**
   * Sync runs ClickHouse shows running (or queued) that `hub.sync_run` has ended (their final
   * row was lost), sent again as the hub holds them.
   */
  endedRuns: number;
  /** The version below which rows were checked. */
  horizon: number;
}

type Entity = 'orders' | 'tickets';
const PG_TABLE: Record<Entity, string> = { orders: 'unified."order"', tickets: 'unified.ticket' };

// Open transactions of this database, this one excepted; xact_start is visible for the
// sessions of the hub's own role, which are the only writers of the unified view.
const HORIZON_SQL = `
  SELECT (extract(epoch FROM coalesce(min(xact_start), clock_timestamp())) * 1000000)::int8 AS h
    FROM pg_stat_activity
   WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()`;

interface ChEntity {
  source: string;
  stream: string;
  source_key: string;
  customer_id: string;
  deleted: number;
}

function emptyKeys(): RecordKeys {
  return { source: [], stream: [], key: [] };
}

/** Checks the rows written before every open transaction began, and re-sends or tombstones those PostgreSQL disagrees with. */
export async function repairClickhouse(pool: pg.Pool, client: ClickHouseClient, options: RepairOptions = {}): Promise<RepairSummary> {
  const since = options.since ?? 0;
  if (!Number.isSafeInteger(since) || since < 0) throw new RangeError(`since must be a non-negative integer (microseconds), got ${since}`);
  const horizon = Number((await pool.query<{ h: string }>(HORIZON_SQL)).rows[0]!.h);
  // 18.16 has no query parameters; both bounds are integers checked above.
  const window = `HAVING max(version) >= ${since} AND max(version) < ${horizon}`;
  const read = async <T>(query: string) => (await client.query({ query, format: 'JSONEachRow' })).json<T>();

  const syncRuns = await repairRunTriggers(pool, client, since, horizon);
  const endedRuns = await repairRunEnds(pool, client, since, horizon);

  const customers = await customerSuspects(pool, read, window);
  const suspectCustomers = customers.suspects;

  const checked: RepairCounts = { customers: customers.checked, orders: 0, tickets: 0 };
  const suspects: Record<Entity, RecordKeys> = { orders: emptyKeys(), tickets: emptyKeys() };
  for (const entity of ['orders', 'tickets'] as const) {
    const rows = await read<ChEntity>(
      `SELECT source, stream, source_key, toString(argMax(customer_id, version)) AS customer_id, argMax(deleted, version) AS deleted
         FROM ${entity} GROUP BY source, stream, source_key ${window}`,
    );
    checked[entity] = rows.length;
    const { rows: bad } = await pool.query<{ source: string; stream: string; source_key: string }>(
      `SELECT k.source, k.stream, k.source_key
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::int[]) AS k(source, stream, source_key, customer_id, deleted)
         LEFT JOIN ${PG_TABLE[entity]} e ON e.source = k.source AND e.stream = k.stream AND e.source_key = k.source_key
        WHERE (k.deleted = 0) <> (e.source IS NOT NULL) OR (k.deleted = 0 AND e.customer_id <> k.customer_id)`,
      [rows.map((r) => r.source), rows.map((r) => r.stream), rows.map((r) => r.source_key), rows.map((r) => r.customer_id), rows.map((r) => r.deleted)],
    );
    for (const b of bad) {
      suspects[entity].source.push(b.source);
      suspects[entity].stream.push(b.stream);
      suspects[entity].key.push(b.source_key);
    }
  }

  const none: RepairCounts = { customers: 0, orders: 0, tickets: 0 };
  if (suspectCustomers.length === 0 && suspects.orders.key.length === 0 && suspects.tickets.key.length === 0) {
    return { checked, resent: none, tombstoned: { ...none }, birthdays: 0, recordCounts: 0, syncRuns, endedRuns, horizon };
  }
  const customerIds = suspectCustomers.map((c) => Number(c.id)).sort((a, b) => a - b);
  // A transaction per page of customers: each holds its customers' rows until ClickHouse has them.
  const resent: RepairCounts = { ...none };
  const tombstoned: RepairCounts = { ...none };
  const sentCustomers = new Set<number>();
  // Once at least: the orders and tickets go with the first page, customers or none.
  for (let i = 0; i < Math.max(customerIds.length, 1); i += RESEND_PAGE) {
    const page = await resend(pool, client, customerIds.slice(i, i + RESEND_PAGE), i === 0 ? suspects : { orders: emptyKeys(), tickets: emptyKeys() }, options.lockStripes ?? 256);
    for (const key of ['customers', 'orders', 'tickets'] as const) {
      resent[key] += page.resent[key];
      tombstoned[key] += page.tombstoned[key];
    }
    for (const id of page.sentCustomers) sentCustomers.add(id);
  }
  // Only the customers whose birthday (or record count) was all that was wrong; a re-sent one has it now.
  const birthdays = suspectCustomers.filter((c) => c.birthday && sentCustomers.has(Number(c.id))).length;
  const recordCounts = suspectCustomers.filter((c) => c.recordCount && sentCustomers.has(Number(c.id))).length;
  return { checked, resent, tombstoned, birthdays, recordCounts, syncRuns, endedRuns, horizon };
}

/** ClickHouse customers read (and checked against PostgreSQL) per range of this many ids. */
const CUSTOMER_SPAN = 50_000;
/** Customers re-sent per transaction. */
const RESEND_PAGE = 1_000;

interface SuspectCustomer {
  id: string;
  /** ClickHouse reads its birthday NULL, PostgreSQL has one, and nothing else is wrong. */
  birthday: boolean;
  /** Alive on both sides, with another record count in ClickHouse. */
  recordCount: boolean;
}

/**
 * The ClickHouse customers in the repair's window, read by ranges of ids (the table's sort
 * key, so each read aggregates its range only) and compared with PostgreSQL range by range:
 * those alive on one side only, those whose birthday ClickHouse reads NULL while PostgreSQL
 * has one, and those whose record count disagrees (each counted through the customer_id index).
 */
async function customerSuspects(pool: pg.Pool, read: <T>(query: string) => Promise<T[]>, window: string): Promise<{ checked: number; suspects: SuspectCustomer[] }> {
  const top = Number((await read<{ top: string }>(`SELECT toString(max(customer_id)) AS top FROM customers`))[0]?.top ?? 0);
  const suspects: SuspectCustomer[] = [];
  let checked = 0;
  for (let from = 0; from <= top; from += CUSTOMER_SPAN) {
    // 0000-00-00 is a birthday 18.16 could not hold as a Date (migration 004); the view reads it NULL.
    const page = await read<{ id: string; deleted: number; no_birthday: number; record_count: number }>(
      `SELECT toString(customer_id) AS id, argMax(deleted, version) AS deleted,
              ifNull(argMax(tuple(birthday), version).1, '') IN ('', '0000-00-00') AS no_birthday,
              argMax(record_count, version) AS record_count
         FROM customers WHERE customer_id >= ${from} AND customer_id < ${from + CUSTOMER_SPAN}
        GROUP BY customer_id ${window}`,
    );
    checked += page.length;
    if (page.length === 0) continue;
    const { rows } = await pool.query<SuspectCustomer>(
      `SELECT id, birthday_lost AND NOT count_differs AS birthday, count_differs AS "recordCount"
         FROM (SELECT x.id::text AS id,
                      (x.deleted = 0) <> (c.id IS NOT NULL AND c.merged_into IS NULL) AS alive_differs,
                      (x.deleted = 0 AND c.merged_into IS NULL AND x.no_birthday = 1 AND c.birthday IS NOT NULL) AS birthday_lost,
                      (x.deleted = 0 AND c.id IS NOT NULL AND c.merged_into IS NULL
                        AND x.record_count <> (SELECT count(*) FROM unified.source_record sr WHERE sr.customer_id = x.id)) AS count_differs
                 FROM unnest($1::bigint[], $2::int[], $3::int[], $4::int[]) AS x(id, deleted, no_birthday, record_count)
                 LEFT JOIN unified.customer c ON c.id = x.id) s
        WHERE alive_differs OR birthday_lost OR count_differs`,
      [page.map((c) => c.id), page.map((c) => c.deleted), page.map((c) => c.no_birthday), page.map((c) => c.record_count)],
    );
    suspects.push(...rows);
  }
  return { checked, suspects };
}

/** Re-sends the suspects' current state under the batch locks; tombstones those PostgreSQL does not have. */
async function resend(
  pool: pg.Pool,
  client: ClickHouseClient,
  customerIds: number[],
  suspects: Record<Entity, RecordKeys>,
  stripes: number,
): Promise<{ resent: RepairCounts; tombstoned: RepairCounts; sentCustomers: Set<number> }> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    // The resolver's lock order: record stripes, then customers by id, then record rows.
    const refs = (['orders', 'tickets'] as const).flatMap((e) => suspects[e].key.map((key, i) => recordRef({ source: suspects[e].source[i]!, stream: suspects[e].stream[i]!, sourceKey: key })));
    await lockStripes(tx, refs, stripes);
    await tx.query('SELECT 1 FROM unified.customer WHERE id = ANY($1::bigint[]) ORDER BY id FOR SHARE', [customerIds]);
    for (const entity of ['orders', 'tickets'] as const) {
      const k = suspects[entity];
      if (k.key.length === 0) continue;
      await tx.query(
        `SELECT 1 FROM ${PG_TABLE[entity]} e JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(source, stream, source_key)
            ON e.source = k.source AND e.stream = k.stream AND e.source_key = k.source_key FOR SHARE OF e`,
        [k.source, k.stream, k.key],
      );
    }
    // Builds take turns (see buildRowsInTurn); this one keeps its turn until it has sent.
    await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [...BUILD_TURN]);
    const rows: ClickhouseRows = await buildRows(tx, { orders: suspects.orders, tickets: suspects.tickets, ownersOf: [], customerIds });
    const version = await pgClockVersion(tx);
    const resent: RepairCounts = { customers: rows.customers?.length ?? 0, orders: rows.orders?.length ?? 0, tickets: rows.tickets?.length ?? 0 };
    const tombstoned: RepairCounts = { customers: 0, orders: 0, tickets: 0 };

    // Absent from PostgreSQL (under the locks, so no batch is adding them now): hide them.
    const sentCustomers = new Set((rows.customers ?? []).map((r) => Number(r.customer_id)));
    const deadCustomers = customerIds.filter((id) => !sentCustomers.has(id)).map((id) => ({ customer_id: id, deleted: 1, version }));
    if (deadCustomers.length > 0) rows.customers = [...(rows.customers ?? []), ...deadCustomers];
    tombstoned.customers = deadCustomers.length;
    for (const entity of ['orders', 'tickets'] as const) {
      const sent = new Set((rows[entity] ?? []).map((r) => `${String(r.source)}\u0000${String(r.stream)}\u0000${String(r.source_key)}`));
      const k = suspects[entity];
      const dead = k.key
        .map((key, i) => ({ source: k.source[i]!, stream: k.stream[i]!, source_key: key, deleted: 1, version }))
        .filter((r) => !sent.has(`${r.source}\u0000${r.stream}\u0000${r.source_key}`));
      if (dead.length > 0) rows[entity] = [...(rows[entity] ?? []), ...dead];
      tombstoned[entity] = dead.length;
    }
    await insertClickhouseRows(client, rows);
    await tx.query('COMMIT');
    return { resent, tombstoned, sentCustomers };
  } catch (err) {
    await tx.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    tx.release();
  }
}
