/**
 * Narrows a `context` frame's parts (whose `data` is `unknown` on the wire) into the shapes of
 * types.ts. Tolerant by design: a row or field that does not fit is dropped or nulled, so a
 * server change shows as a missing detail, never as a panel that fails to render.
 */
import type { ContextFrame } from '../../shared/chat-client.js';
import type {
  CrmProfile,
  CustomerData,
  EvidenceStep,
  FieldLineage,
  GoldenField,
  IdentitiesData,
  Json,
  LiveStatus,
  MergeEntry,
  Order,
  OrderLine,
  Part,
  PanelData,
  Ticket,
} from './types.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
const text = (v: unknown): string => str(v) ?? '';
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);
const strings = (v: unknown): string[] => arr(v).map(str).filter((s): s is string => s !== null);
const present = (v: unknown) => v !== null && v !== undefined && !(typeof v === 'string' && v.trim() === '');

function part<T>(raw: unknown, read: (data: unknown) => T): Part<T> | null {
  if (!isObj(raw)) return null;
  return {
    asOf: str(raw.asOf),
    stale: raw.stale === true,
    staleSince: str(raw.staleSince),
    error: str(raw.error),
    data: raw.data === null || raw.data === undefined ? null : read(raw.data),
  };
}

function lineage(v: unknown): FieldLineage | null {
  if (!isObj(v) || typeof v.source !== 'string') return null;
  return { source: v.source, stream: text(v.stream), source_key: text(v.source_key), mapping: str(v.mapping), synced_at: str(v.synced_at), rule: str(v.rule) };
}

function customer(data: unknown): CustomerData {
  const d = obj(data);
  const lineages = obj(d.lineage);
  const fields: GoldenField[] = Object.entries(obj(d.fields))
    .filter(([, value]) => present(value))
    .map(([name, value]) => ({ name, value: value as Json, type: null, lineage: lineage(lineages[name]) }));
  for (const a of arr(d.attributes)) {
    const attr = obj(a);
    if (typeof attr.name === 'string' && present(attr.value)) fields.push({ name: attr.name, value: attr.value as Json, type: str(attr.type), lineage: lineage(attr.lineage) });
  }
  const records = arr(d.records).map((r) => {
    const o = obj(r);
    return { source: text(o.source), stream: text(o.stream), sourceKey: text(o.sourceKey), target: text(o.target), syncedAt: str(o.syncedAt) };
  });
  return { id: num(d.id) ?? 0, fields, records };
}

function step(v: unknown): EvidenceStep | null {
  const s = obj(v);
  return typeof s.key === 'string' ? { from: text(s.from), to: text(s.to), key: s.key } : null;
}

function merge(v: unknown): MergeEntry {
  const m = obj(v);
  const e = obj(m.evidence);
  return {
    at: text(m.at),
    action: text(m.action),
    customerId: num(m.customerId) ?? 0,
    absorbedId: num(m.absorbedId) ?? 0,
    evidence: {
      records: strings(e.records),
      path: arr(e.path).map(step).filter((s): s is EvidenceStep => s !== null),
      capped: strings(e.capped),
      requested: str(e.requested),
    },
  };
}

function identities(data: unknown): IdentitiesData {
  const d = obj(data);
  const nullable = <T>(v: unknown, read: (x: unknown) => T): T[] | null => (Array.isArray(v) ? v.map(read) : null);
  return {
    identities: arr(d.identities).map((i) => {
      const o = obj(i);
      return { kind: text(o.kind), value: text(o.value), state: str(o.state) ?? 'link' };
    }),
    chain: nullable(d.chain, (c) => ({ record: text(obj(c).record), via: step(obj(c).via) })),
    shared: nullable(d.shared, (s) => ({ key: text(obj(s).key), state: str(obj(s).state) ?? 'link', records: strings(obj(s).records) })),
    unexplained: nullable(d.unexplained, (u) => ({ record: text(obj(u).record), pinned: obj(u).pinned === true })),
    merges: arr(d.merges).map(merge),
    absorbed: arr(d.absorbed).map(num).filter((n): n is number => n !== null),
  };
}

function live(v: unknown): LiveStatus | null {
  if (!isObj(v)) return null;
  return { status: str(v.status), error: str(v.error), source: text(v.source), lookup: text(v.lookup), asOf: str(v.asOf) };
}

function line(v: unknown): OrderLine {
  const l = obj(v);
  return { sku: str(l.sku), name: str(l.name), qty: num(l.qty), unit_price: str(l.unit_price) };
}

function orders(data: unknown): Order[] {
  return arr(data).map((r) => {
    const o = obj(r);
    return {
      source: text(o.source),
      sourceKey: text(o.sourceKey),
      order_no: str(o.order_no),
      status: str(o.status),
      total_amount: str(o.total_amount),
      currency: str(o.currency),
      lines: arr(o.lines).map(line),
      ordered_at: str(o.ordered_at),
      updated_at: str(o.updated_at),
      syncedAt: str(o.syncedAt),
      live: live(o.live),
    };
  });
}

function crm(data: unknown): CrmProfile[] {
  return arr(data).map((r) => {
    const o = obj(r);
    return {
      source: text(o.source),
      sourceKey: text(o.sourceKey),
      crm_id: str(o.crm_id),
      name: str(o.name),
      email: str(o.email),
      phone: str(o.phone),
      vip_level: str(o.vip_level),
      account_manager: str(o.account_manager),
      updated_at: str(o.updated_at),
      syncedAt: str(o.syncedAt),
    };
  });
}

function tickets(data: unknown): Ticket[] {
  return arr(data).map((r) => {
    const o = obj(r);
    return {
      source: text(o.source),
      sourceKey: text(o.sourceKey),
      ticket_no: str(o.ticket_no),
      subject: str(o.subject),
      status: str(o.status),
      priority: str(o.priority),
      answered: o.answered === true,
      created_at: str(o.created_at),
      updated_at: str(o.updated_at),
      syncedAt: str(o.syncedAt),
    };
  });
}

/** The panel's view of a context frame; a part the frame lacks is null. */
export function readParts(frame: ContextFrame): PanelData {
  const p = frame.parts;
  return {
    customerId: frame.customerId,
    customer: part(p.customer, customer),
    identities: part(p.identities, identities),
    orders: part(p.orders, orders),
    crm: part(p.crm, crm),
    tickets: part(p.tickets, tickets),
  };
}
