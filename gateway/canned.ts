/**
 * Canned replies (`gateway.canned_replies`) with `{{variables}}` filled from the unified
 * customer of one conversation, read from the same panel the `context` frame carries.
 *
 * Variables: `customer.<golden field>` and `customer.id`; `orders.latest.<field>` (the most
 * recent order: order_no, status, total_amount, currency, ordered_at, live_status) and
 * `orders.count`; `tickets.latest.<field>` (ticket_no, subject, status, priority, created_at)
 * and `tickets.open_count`; `crm.<field>` (the CRM profile); `agent.name`, `agent.team`;
 * `conversation.id`, `conversation.team`. An unknown variable renders empty and is listed in
 * `unknown`; a known one without a value (no orders yet) renders empty and is listed in `empty`.
 *
 * Why not mustache or handlebars: these are plain chat texts (HTML escaping would be wrong),
 * the only syntax is `{{a.b}}`, and neither library reports unknown variables, which is the
 * point here.
 */
import type { JsonValue } from '../connectors/types.js';
import { TARGETS } from '../pipelines/model.js';
import type { GatewaySettings } from './settings.js';
import type { ContextPart } from './protocol.js';

export type CannedReply = GatewaySettings['canned_replies'][number];

export interface RenderedReply {
  id: string;
  title: string;
  text: string;
  /** Variables that do not exist (typos in config): rendered empty. */
  unknown: string[];
  /** Known variables without a value for this customer: rendered empty. */
  empty: string[];
}

/** What a reply is rendered with. `parts` is null for a conversation not linked to a customer. */
export interface RenderScope {
  parts: Record<string, ContextPart> | null;
  customerId: number | null;
  agent: { name: string; team: string };
  conversation: { id: number; team: string };
}

const ORDER_FIELDS = ['order_no', 'status', 'total_amount', 'currency', 'ordered_at', 'live_status'];
const TICKET_FIELDS = ['ticket_no', 'subject', 'status', 'priority', 'created_at'];

/** Every variable a reply may use. */
export const CANNED_VARIABLES: readonly string[] = [
  'customer.id',
  ...Object.keys(TARGETS.customer.fields).map((f) => `customer.${f}`),
  ...ORDER_FIELDS.map((f) => `orders.latest.${f}`),
  'orders.count',
  ...TICKET_FIELDS.map((f) => `tickets.latest.${f}`),
  'tickets.open_count',
  ...Object.keys(TARGETS.crm_profile.fields).map((f) => `crm.${f}`),
  'agent.name',
  'agent.team',
  'conversation.id',
  'conversation.team',
];
const KNOWN = new Set(CANNED_VARIABLES);

const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;

type Obj = Record<string, JsonValue | undefined>;
const rows = (part: ContextPart | undefined): Obj[] => (Array.isArray(part?.data) ? (part.data as Obj[]) : []);

/** The values of every known variable for one scope (absent: no value). */
function values(scope: RenderScope): Map<string, string> {
  const out = new Map<string, string>();
  const put = (name: string, v: unknown) => {
    if (v !== null && v !== undefined && v !== '' && typeof v !== 'object') out.set(name, String(v));
  };
  put('agent.name', scope.agent.name);
  put('agent.team', scope.agent.team);
  put('conversation.id', scope.conversation.id);
  put('conversation.team', scope.conversation.team);
  const p = scope.parts;
  if (!p) return out;
  put('customer.id', scope.customerId);
  const fields = ((p.customer?.data as { fields?: Obj } | null)?.fields ?? {}) as Obj;
  for (const [k, v] of Object.entries(fields)) put(`customer.${k}`, v);
  const orders = rows(p.orders);
  put('orders.count', orders.length);
  const order = orders[0];
  if (order) {
    for (const f of ORDER_FIELDS) put(`orders.latest.${f}`, order[f]);
    put('orders.latest.live_status', (order.live as Obj | undefined)?.status);
  }
  const tickets = rows(p.tickets);
  put('tickets.open_count', tickets.length);
  const ticket = tickets[0];
  if (ticket) for (const f of TICKET_FIELDS) put(`tickets.latest.${f}`, ticket[f]);
  const crm = rows(p.crm)[0];
  if (crm) for (const f of Object.keys(TARGETS.crm_profile.fields)) put(`crm.${f}`, crm[f]);
  return out;
}

/** Fills one reply's variables. */
export function renderReply(reply: CannedReply, scope: RenderScope, known = values(scope)): RenderedReply {
  const unknown = new Set<string>();
  const empty = new Set<string>();
  const text = reply.text.replace(VARIABLE, (_m, name: string) => {
    if (!KNOWN.has(name)) {
      unknown.add(name);
      return '';
    }
    const v = known.get(name);
    if (v === undefined) empty.add(name);
    return v ?? '';
  });
  return { id: reply.id, title: reply.title, text, unknown: [...unknown], empty: [...empty] };
}

/** Renders every reply for one conversation's scope. */
export function renderReplies(replies: readonly CannedReply[], scope: RenderScope): RenderedReply[] {
  const known = values(scope);
  return replies.map((r) => renderReply(r, scope, known));
}
