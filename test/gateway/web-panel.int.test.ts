/**
 * The agent console's customer panel (gateway/web/src/agent/panel) rendered to static HTML
 * from real `context` frames: unified data loaded through the real resolver into a scratch
 * database, a gateway whose SOAP lookups reach the real service (live status) and one whose
 * SOAP source is stopped (orders stale), frames received by an agent's socket as in
 * context.int.test.ts. Asserts what an agent reads: the section headings, each golden value's
 * lineage tooltip (source, key, mapping file:line), orders most recent first with their lines
 * and live badge, the stale note with its error code, the CRM profile and open tickets.
 */
import { createElement, type FunctionComponent } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import type { SourceRecord } from '../../connectors/types.js';
import { signIdentity } from '../../gateway/auth/identity.js';
import type { ServerFrame } from '../../gateway/protocol.js';
import type { RunningGateway } from '../../gateway/server.js';
import { applyBatch } from '../../pipelines/load/apply-batch.js';
import type { MappedRecord } from '../../pipelines/types.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { inTx, mapped, testRules } from '../helpers/unified.js';
import { connectAgent, gatewayEnv, IDENTITY_SECRET, makeAgent, sendAndAck, TestClient, visitorToken, type GatewayEnv } from './helpers.js';

type ContextFrame = Extract<ServerFrame, { type: 'context' }>;
type Panel = FunctionComponent<{ context: ContextFrame | null }>;

// A computed specifier: the root tsconfig (no JSX, no DOM) must not follow this import into
// gateway/web, which `tsc -p gateway/web` checks; vitest transforms the .tsx itself.
const PANEL_MODULE = '../../gateway/web/src/agent/panel/customer-panel.js';
let CustomerPanel: Panel;

const rules = testRules();
let env: GatewayEnv;
let live: RunningGateway;
let down: RunningGateway;
const proxies: TcpProxy[] = [];
/** A real order number of the SOAP service in progress, with its source status (`SHIPPED`). */
let open: { orderNo: string; status: string };
let liveFrame: ContextFrame;
let staleFrame: ContextFrame;

const UNIFIED_STATUS: Record<string, string> = { PENDING_PAYMENT: 'pending', PAID: 'paid', SHIPPED: 'shipped' };
const EMAIL = 'wang.fang@example.com';

function records(): MappedRecord[] {
  const byEmail: [string, string][] = [['email', EMAIL]];
  const order = (orderNo: string, status: string, orderedAt: string) =>
    mapped(`orders_soap/orders/${orderNo}`, {
      target: 'order',
      fields: { order_no: orderNo, status, total_amount: '867.00', currency: 'CNY', ordered_at: orderedAt, lines: [{ sku: 'SKU-LAMP', name: '护眼台灯', qty: 2, unit_price: '139.50' }] },
      keys: byEmail,
    });
  const ticket = (no: string, subject: string, status: string) =>
    mapped(`tickets_php/tickets/${no}`, { target: 'ticket', fields: { ticket_no: no, subject, status, priority: 'high', created_at: '2026-01-03T10:00:00+08:00' }, keys: byEmail });
  return [
    mapped('shop_pg/accounts/W1', { fields: { name: '王芳', email: EMAIL }, keys: [['shop_account', 'W1'], ...byEmail], lines: { name: 12, email: 13 } }),
    // Another record of the same person, joined by the email: the city comes from it.
    mapped('app_mongo/users/U-W1', { fields: { nickname: 'fangfang', city: '上海' }, keys: [['app_user', 'U-W1'], ...byEmail], lines: { nickname: 6, city: 7 } }),
    mapped('crm_oracle/customers/C-W1', {
      target: 'crm_profile',
      fields: { crm_id: 'C-W1', vip_level: '3', account_manager: '李雷', email: EMAIL },
      keys: [['crm_id', 'C-W1'], ...byEmail],
      lines: { vip_level: 20 },
    }),
    order(open.orderNo, UNIFIED_STATUS[open.status]!, '2026-01-05T10:00:00+08:00'),
    order('SO-WEB-OLD', 'delivered', '2025-06-01T10:00:00+08:00'),
    ticket('TK-W1', '发票抬头要改', 'open'),
    ticket('TK-W2', 'closed long ago', 'closed'),
  ];
}

async function linkedFrame(gw: RunningGateway, team: string): Promise<ContextFrame> {
  const agent = await makeAgent(env, team);
  const agentWs = await connectAgent(env, gw.port, agent);
  const identity = { email: EMAIL };
  const ts = Math.floor(Date.now() / 1000);
  const session = await visitorToken(gw.port, { identity, timestamp: ts, signature: signIdentity(identity, ts, IDENTITY_SECRET) });
  const { client: visitor } = await TestClient.connect(gw.port, session.token);
  const { conversationId } = await sendAndAck(visitor, { clientMsgId: 'first', text: `${team}: 我的订单呢？` });
  const frame = (await agentWs.next((f) => f.type === 'context' && f.conversationId === conversationId && f.reason === 'linked')) as ContextFrame;
  for (const c of [agentWs, visitor]) c.close();
  return frame;
}

const render = (context: ContextFrame | null) => renderToStaticMarkup(createElement(CustomerPanel, { context }));
const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, ' ')
    .trim();

/** Each `<section>` of the panel by its h2 text. */
function sections(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of html.matchAll(/<section\b[^>]*>([\s\S]*?)<\/section>/g)) {
    const h2 = /<h2\b[^>]*>([\s\S]*?)<\/h2>/.exec(m[1]!);
    out.set(textOf(h2?.[1] ?? ''), m[1]!);
  }
  return out;
}

/** The text of the tooltip describing the focusable element whose text is `value`. */
function tooltipOf(html: string, value: string): string {
  const target = new RegExp(`<span tabindex="0"[^>]*aria-describedby="([^"]+)"[^>]*>${value}</span>`).exec(html);
  if (!target) throw new Error(`no focusable value ${value} described by a tooltip`);
  const tip = new RegExp(`<span role="tooltip" id="${target[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*>([\\s\\S]*?)</span></span>`).exec(html);
  if (!tip) throw new Error(`no role=tooltip element with id ${target[1]}`);
  return textOf(tip[1]!);
}

beforeAll(async () => {
  ({ CustomerPanel } = (await import(PANEL_MODULE)) as { CustomerPanel: Panel });
  env = await gatewayEnv('web_panel');
  const config = await loadConfig(`${PROJECT_ROOT}/config/junction.yaml`);
  const soap = config.sources.orders_soap!;
  const reader = createConnector('orders_soap', soap as { type: string }, { log: silentLogger });
  const seen: SourceRecord[] = [];
  for await (const batch of reader.read('orders', null, { limit: 300 })) seen.push(...batch.records);
  await reader.close();
  const found = seen.find((o) => typeof o.status === 'string' && o.status in UNIFIED_STATUS);
  if (!found) throw new Error('the SOAP estate has no open order');
  open = { orderNo: String(found.orderNo), status: String(found.status) };
  await inTx(env.db.pool, (tx) => applyBatch(tx, records(), rules));

  const soapPort = stackSettings().services.orders_soap.port;
  const healthy = await startTcpProxy('127.0.0.1', soapPort);
  const stopped = await startTcpProxy('127.0.0.1', soapPort);
  await stopped.destroy(); // its port now refuses connections: the source is down
  proxies.push(healthy);
  const via = (proxy: TcpProxy) => ({ orders_soap: { ...soap, wsdl: `http://127.0.0.1:${proxy.port}/orders.php?wsdl` } });
  const settings = (timeout_ms: number) => ({
    routing: ['t_live', 't_stale'].map((team) => ({ team, match: `^${team}:` })),
    context: { orders: 10, tickets: 10, reuse_ms: 0 },
    lookups: [{ part: 'orders', source: 'orders_soap', lookup: 'order_status', params: { orderNo: 'order_no' }, statuses: ['pending', 'paid', 'shipped'], cache_ttl_s: 0, timeout_ms }],
    lookup_circuit: { volume: 100, reset_ms: 60_000 },
  });
  live = await env.start({ rules, sources: via(healthy), settings: settings(3000) });
  down = await env.start({ rules, sources: via(stopped), settings: settings(500) });
  liveFrame = await linkedFrame(live, 't_live');
  staleFrame = await linkedFrame(down, 't_stale');
});

afterAll(async () => {
  await env?.close();
  await Promise.all(proxies.map((p) => p.destroy()));
});

describe('customer panel (web)', () => {
  it('renders every part of a real context frame under its h2', () => {
    const html = render(liveFrame);
    expect([...html.matchAll(/<h2\b[^>]*>([\s\S]*?)<\/h2>/g)].map((m) => textOf(m[1]!))).toEqual(['Customer', 'Identities', 'Orders', 'CRM profile', 'Open tickets']);
    const s = sections(html);
    const customer = textOf(s.get('Customer')!);
    expect(customer).toContain('王芳');
    expect(customer).toContain('上海');
    expect(customer).toContain(EMAIL);
    // Every section says how fresh it is; nothing is stale with the source answering.
    for (const [name, body] of s) expect(textOf(body), name).toMatch(/as of /);
    expect(html).not.toContain('stale since');

    const identities = textOf(s.get('Identities')!);
    expect(identities).toContain(`Email ${EMAIL}`);
    expect(identities).toContain('CRM id C-W1');
    // The merge evidence in words: which key joined which record.
    const joined = (record: string) => new RegExp(`${record.replace(/\./g, '\\.')}[^(]* joined by email ${EMAIL.replace(/\./g, '\\.')} \\(shared with `);
    expect(identities).toMatch(joined('shop_pg.accounts W1'));
    expect(identities).toMatch(joined('tickets_php.tickets TK-W1'));

    const crm = textOf(s.get('CRM profile')!);
    expect(crm).toContain('VIP level 3');
    expect(crm).toContain('李雷');

    const tickets = textOf(s.get('Open tickets')!);
    expect(tickets).toContain('TK-W1');
    expect(tickets).toContain('发票抬头要改');
    expect(tickets).not.toContain('TK-W2'); // closed: not an open ticket
  });

  it('gives each golden value a tooltip with its source, key, mapping file:line and as-of time', () => {
    const html = render(liveFrame);
    const name = tooltipOf(html, '王芳');
    expect(name).toContain('Source: shop_pg.accounts');
    expect(name).toContain('Key: W1');
    expect(name).toContain('Mapping: mappings/shop_pg.accounts.yaml:12');
    expect(name).toMatch(/As of: \S/);
    // Each field its own lineage: the city came from the app record, the VIP level from the CRM.
    expect(tooltipOf(html, '上海')).toContain('Mapping: mappings/app_mongo.users.yaml:7');
    expect(tooltipOf(html, '3')).toMatch(/Source: crm_oracle\.customers Key: C-W1 Mapping: mappings\/crm_oracle\.customers\.yaml:20 /);
    // Hidden until hovered or focused.
    expect(html).toMatch(/<span role="tooltip" id="[^"]+" class="cp-tip" hidden="">/);
  });

  it('lists orders most recent first with their lines, the live status as a badge', () => {
    const orders = sections(render(liveFrame)).get('Orders')!;
    const text = textOf(orders);
    expect(text.indexOf(open.orderNo)).toBeGreaterThanOrEqual(0);
    expect(text.indexOf(open.orderNo)).toBeLessThan(text.indexOf('SO-WEB-OLD'));
    const liveStatus = open.status.toLowerCase().replace(/_/g, ' ');
    expect(text).toContain(`${open.orderNo} ${liveStatus} · live`);
    expect(text).toContain('SO-WEB-OLD delivered');
    expect(text).not.toContain('delivered · live');
    expect(text).toContain('护眼台灯 SKU-LAMP × 2');
    expect(text).toContain('867');
  });

  it('marks the orders stale when the SOAP source is down, with the error code in the tooltip, the other parts whole', () => {
    const orders = staleFrame.parts.orders!;
    expect(orders).toMatchObject({ stale: true, error: expect.stringMatching(/^CONN_/) });
    const s = sections(render(staleFrame));
    const body = s.get('Orders')!;
    expect(textOf(body)).toMatch(/stale since \S/);
    expect(tooltipOf(body, 'stale since [^<]+')).toContain(orders.error!);
    // The last synced state is still shown, without a live badge.
    expect(textOf(body)).toContain(`${open.orderNo} ${UNIFIED_STATUS[open.status]}`);
    expect(textOf(body)).not.toContain('· live');
    for (const part of ['Customer', 'Identities', 'CRM profile', 'Open tickets']) expect(s.get(part), part).not.toContain('stale since');
  });

  it('shows a calm empty state for an anonymous visitor', () => {
    const html = render(null);
    expect(textOf(html)).toContain('No customer linked to this conversation');
    expect(html).not.toContain('<section');
  });
});
