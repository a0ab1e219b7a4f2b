/**
 * The shapes of a `context` frame's parts as the server builds them (gateway/enrich/panel.ts,
 * gateway/enrich/lookups.ts; golden record and evidence from pipelines/unified/show.ts and
 * explain.ts). On the wire every part's `data` is `unknown`: read-parts.ts narrows it into
 * these, dropping what does not fit instead of failing the whole panel.
 */

/** A part as the panel reads it: `data` null when the part could not be read at all. */
export interface Part<T> {
  /** When the data was read from where it lives (the oldest row shown). */
  asOf: string | null;
  stale: boolean;
  staleSince: string | null;
  /** The error code of a stale part (`CONN_…`, `GW_LOOKUP_TIMEOUT`, …). */
  error: string | null;
  data: T | null;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Where a golden value came from (pipelines/load/golden.ts `Lineage`). */
export interface FieldLineage {
  source: string;
  stream: string;
  source_key: string;
  /** `mappings/FILE.yaml:line` of the field's definition; null when the mapping stage did not say. */
  mapping: string | null;
  synced_at: string | null;
  /** The survivorship rule that chose it: `most_recent`, `first_non_null`, `source_priority`. */
  rule: string | null;
}

/** One golden value: a model field or a custom attribute. */
export interface GoldenField {
  name: string;
  value: Json;
  /** The model field's type for attributes (`string`, `date`, …); null for model fields. */
  type: string | null;
  lineage: FieldLineage | null;
}

/** `parts.customer.data`: `{ id, fields, lineage, attributes, records }`. */
export interface CustomerData {
  id: number;
  /** Model fields in model order, then attributes; null values already left out. */
  fields: GoldenField[];
  records: { source: string; stream: string; sourceKey: string; target: string; syncedAt: string | null }[];
}

/** `kind:value` as the resolver writes keys; `pin:<customer>` for an unmerge's pin. */
export type IdentityKey = string;

export interface EvidenceStep {
  from: string;
  to: string;
  key: IdentityKey;
}

export interface MergeEntry {
  at: string;
  /** `merge`, `split` or `unmerge` (merge_log actions). */
  action: string;
  customerId: number;
  absorbedId: number;
  evidence: { records: string[]; path: EvidenceStep[]; capped: string[]; requested: string | null };
}

/** `parts.identities.data`: `{ identities, chain, shared, unexplained, merges, absorbed }`. */
export interface IdentitiesData {
  /** `state`: `link` (joins records), `capped` (held by too many people, links nothing), `shared` (held by records kept apart). */
  identities: { kind: string; value: string; state: string }[];
  /** Each record with the step that reaches it from the first (null `via` for the first); null without identity rules. */
  chain: { record: string; via: EvidenceStep | null }[] | null;
  /** Keys two or more records hold. */
  shared: { key: IdentityKey; state: string; records: string[] }[] | null;
  /** Records no key reaches from the first: pinned by an unmerge, or rules changed since. */
  unexplained: { record: string; pinned: boolean }[] | null;
  merges: MergeEntry[];
  /** Customers merged into this one. */
  absorbed: number[];
}

export interface OrderLine {
  sku: string | null;
  name: string | null;
  qty: number | null;
  unit_price: string | null;
}

/** What a live lookup added to an order (`{ ...answer, source, lookup, asOf }`, or `error` for a source's "not found"). */
export interface LiveStatus {
  /** The source's own status (the SOAP service says `SHIPPED`, `PENDING_PAYMENT`). */
  status: string | null;
  error: string | null;
  source: string;
  lookup: string;
  asOf: string | null;
}

/** One of `parts.orders.data` (gateway/enrich/panel.ts `PanelOrder`). */
export interface Order {
  source: string;
  sourceKey: string;
  order_no: string | null;
  /** Unified status as of the last sync: pending, paid, shipped, delivered, cancelled, refunded. */
  status: string | null;
  /** A decimal as text (`"867.00"`). */
  total_amount: string | null;
  currency: string | null;
  lines: OrderLine[];
  ordered_at: string | null;
  updated_at: string | null;
  syncedAt: string | null;
  live: LiveStatus | null;
}

/** One of `parts.crm.data`. */
export interface CrmProfile {
  source: string;
  sourceKey: string;
  crm_id: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  vip_level: string | null;
  account_manager: string | null;
  updated_at: string | null;
  syncedAt: string | null;
}

/** One of `parts.tickets.data` (open tickets only). */
export interface Ticket {
  source: string;
  sourceKey: string;
  ticket_no: string | null;
  subject: string | null;
  status: string | null;
  priority: string | null;
  /** An agent has answered it (`first_response_at` is set). */
  answered: boolean;
  created_at: string | null;
  updated_at: string | null;
  syncedAt: string | null;
}

export interface PanelData {
  customerId: number;
  customer: Part<CustomerData> | null;
  identities: Part<IdentitiesData> | null;
  orders: Part<Order[]> | null;
  crm: Part<CrmProfile[]> | null;
  tickets: Part<Ticket[]> | null;
}
