/**
 * The parts of a context panel that live in the unified view (PostgreSQL): the golden record
 * with its lineage, identities with the evidence that joined the customer's records, recent
 * orders with their lines, CRM profiles and open tickets. The golden record and the evidence
 * come from the same functions as `junction customers show|explain` (pipelines/unified), so
 * the panel and the CLI never disagree. Each part is read on its own: one failing query marks
 * that part stale and leaves the others whole.
 */
import type pg from 'pg';
import { isJunctionError } from '../../config/errors.js';
import type { JsonValue } from '../../connectors/types.js';
import type { ResolveRules } from '../../pipelines/resolve/rules.js';
import { explainCustomer, type Explanation } from '../../pipelines/unified/explain.js';
import { showCustomer, type CustomerView } from '../../pipelines/unified/show.js';
import type { ContextPart } from '../protocol.js';

/** Unified order statuses of orders still in progress; tickets likewise. */
export const OPEN_ORDER_STATUSES = ['pending', 'paid', 'shipped'];
export const OPEN_TICKET_STATUSES = ['open', 'pending'];

export interface PanelLimits {
  orders: number;
  tickets: number;
}

export type PanelParts = Record<'customer' | 'identities' | 'orders' | 'crm' | 'tickets', ContextPart>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const latest = (times: (string | null)[]) => times.filter((t): t is string => t !== null).sort().at(-1) ?? null;

/** A part that could not be read: no data, stale since now, with the error's code. */
export function failedPart(err: unknown, at = new Date()): ContextPart {
  return { asOf: null, stale: true, staleSince: at.toISOString(), error: isJunctionError(err) ? err.code : 'GW_STORE_UNAVAILABLE', data: null };
}

function customerPart(view: CustomerView): ContextPart {
  return {
    asOf: latest(view.records.map((r) => r.syncedAt)),
    stale: false,
    data: {
      id: view.id,
      fields: view.fields,
      lineage: view.lineage,
      attributes: view.attributes as unknown as JsonValue,
      records: view.records.map((r) => ({ source: r.source, stream: r.stream, sourceKey: r.sourceKey, target: r.target, syncedAt: r.syncedAt })),
    },
  };
}

function identitiesPart(view: CustomerView, why: Explanation | null): ContextPart {
  return {
    asOf: latest(view.records.map((r) => r.syncedAt)),
    stale: false,
    data: {
      identities: view.identities,
      // How each record joins the first one, and the keys records share (the merge evidence).
      chain: why?.chain ?? null,
      shared: why?.shared ?? null,
      unexplained: why?.unexplained ?? null,
      merges: view.history as unknown as JsonValue,
      absorbed: view.absorbed,
    },
  };
}

interface OrderRow {
  source: string;
  stream: string;
  source_key: string;
  order_no: string | null;
  status: string | null;
  total_amount: string | null;
  currency: string | null;
  lines: JsonValue;
  ordered_at: Date | null;
  updated_at: Date | null;
  synced_at: Date;
}

/** An order as the panel shows it (`live` is added by a live lookup). */
export interface PanelOrder {
  source: string;
  sourceKey: string;
  order_no: string | null;
  status: string | null;
  total_amount: string | null;
  currency: string | null;
  lines: JsonValue;
  ordered_at: string | null;
  updated_at: string | null;
  syncedAt: string;
  live?: Record<string, JsonValue>;
}

async function ordersPart(db: pg.Pool, customerId: number, limit: number): Promise<ContextPart> {
  const { rows } = await db.query<OrderRow>(
    `SELECT source, stream, source_key, order_no, status, total_amount::text AS total_amount, currency, lines, ordered_at, updated_at, synced_at
       FROM unified."order" WHERE customer_id = $1 ORDER BY ordered_at DESC NULLS LAST, source_key DESC LIMIT $2`,
    [customerId, limit],
  );
  const orders: PanelOrder[] = rows.map((r) => ({
    source: r.source,
    sourceKey: r.source_key,
    order_no: r.order_no,
    status: r.status,
    total_amount: r.total_amount,
    currency: r.currency,
    lines: r.lines,
    ordered_at: iso(r.ordered_at),
    updated_at: iso(r.updated_at),
    syncedAt: r.synced_at.toISOString(),
  }));
  return { asOf: latest(orders.map((o) => o.syncedAt)), stale: false, data: orders };
}

async function ticketsPart(db: pg.Pool, customerId: number, limit: number): Promise<ContextPart> {
  const { rows } = await db.query<Record<string, JsonValue> & { synced_at: Date; created_at: Date | null; updated_at: Date | null }>(
    `SELECT source, source_key, ticket_no, subject, status, priority, created_at, updated_at, first_response_at IS NOT NULL AS answered, synced_at
       FROM unified.ticket WHERE customer_id = $1 AND status = ANY($3::text[]) ORDER BY created_at DESC NULLS LAST, source_key DESC LIMIT $2`,
    [customerId, limit, OPEN_TICKET_STATUSES],
  );
  const tickets = rows.map(({ synced_at, created_at, updated_at, source_key, ...t }) => ({
    ...t,
    sourceKey: source_key,
    created_at: iso(created_at),
    updated_at: iso(updated_at),
    syncedAt: synced_at.toISOString(),
  }));
  return { asOf: latest(tickets.map((t) => t.syncedAt)), stale: false, data: tickets };
}

async function crmPart(db: pg.Pool, customerId: number): Promise<ContextPart> {
  const { rows } = await db.query<Record<string, JsonValue> & { synced_at: Date; updated_at: Date | null }>(
    `SELECT source, source_key, crm_id, name, email, phone, vip_level, account_manager, updated_at, synced_at
       FROM unified.crm_profile WHERE customer_id = $1 ORDER BY updated_at DESC NULLS LAST, source_key`,
    [customerId],
  );
  const profiles = rows.map(({ synced_at, updated_at, source_key, ...p }) => ({ ...p, sourceKey: source_key, updated_at: iso(updated_at), syncedAt: synced_at.toISOString() }));
  return { asOf: latest(profiles.map((p) => p.syncedAt)), stale: false, data: profiles };
}

/**
 * Reads every unified part of `customerId` concurrently. Never throws: a part whose read
 * failed is a {@link failedPart}. `rules` (identity resolution's) explain the merge evidence;
 * without them the identities part carries the merge log only.
 */
export async function readPanelParts(db: pg.Pool, customerId: number, limits: PanelLimits, rules: ResolveRules | null): Promise<PanelParts> {
  const settle = (p: Promise<ContextPart>) => p.catch((err: unknown) => failedPart(err));
  const view = showCustomer(db, customerId);
  const why = rules ? explainCustomer(db, customerId, rules) : Promise.resolve(null);
  const [customer, identities, orders, crm, tickets] = await Promise.all([
    settle(view.then(customerPart)),
    settle(Promise.all([view, why]).then(([v, w]) => identitiesPart(v, w))),
    settle(ordersPart(db, customerId, limits.orders)),
    settle(crmPart(db, customerId)),
    settle(ticketsPart(db, customerId, limits.tickets)),
  ]);
  return { customer, identities, orders, crm, tickets };
}
