/**
 * `/demo/shop` against a scratch gateway: unified customers loaded through the real resolver
 * (applyBatch), the page's shopper list (shop account AND orders AND open tickets, by id),
 * the widget attributes it signs (they verify, and the visitor session they open is linked to
 * the shopper), HTML escaping, the 404s, and the page being absent without `demo_shop`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyIdentity } from '../../gateway/auth/identity.js';
import { demoShoppers } from '../../gateway/http/demo-shop.js';
import { PAGE_CSP } from '../../gateway/http/web.js';
import type { RunningGateway } from '../../gateway/server.js';
import { applyBatch } from '../../pipelines/load/apply-batch.js';
import type { MappedRecord } from '../../pipelines/types.js';
import { customerOf, inTx, mapped, testRules } from '../helpers/unified.js';
import { gatewayEnv, http, IDENTITY_SECRET, type GatewayEnv } from './helpers.js';

const EVIL = '<script>alert("x")</script> O\'Neil & Co';

let env: GatewayEnv;
let gw: RunningGateway;
let off: RunningGateway;

const customer = (account: string | null, name: string, email: string) =>
  mapped(`shop_pg/accounts/${account ?? email}`, {
    fields: { name, email },
    keys: [...(account ? ([['shop_account', account]] as [string, string][]) : []), ['email', email]],
  });
const order = (no: string, email: string) =>
  mapped(`orders_soap/orders/${no}`, { target: 'order', fields: { order_no: no, status: 'paid', ordered_at: '2026-01-05T10:00:00+08:00' }, keys: [['email', email]] });
const ticket = (no: string, status: string, email: string) =>
  mapped(`tickets_php/tickets/${no}`, { target: 'ticket', fields: { ticket_no: no, subject: `ticket ${no}`, status, created_at: '2026-01-03T10:00:00+08:00' }, keys: [['email', email]] });

async function page(port: number, query = ''): Promise<{ status: number; html: string; headers: Headers }> {
  const res = await fetch(`http://127.0.0.1:${port}/demo/shop${query}`);
  return { status: res.status, html: await res.text(), headers: res.headers };
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The widget tag's data-* attributes (single- or double-quoted), decoded. */
function widgetAttributes(html: string): Record<string, string> {
  const tag = /<script\b[^>]*src="\/widget\.js"[^>]*>/.exec(html)?.[0];
  if (!tag) throw new Error('no widget script tag');
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/\s(data-[a-z-]+)=(?:"([^"]*)"|'([^']*)')/g)) out[m[1]!] = decode(m[2] ?? m[3] ?? '');
  return out;
}

/** The shop account ids the page offers, in page order. */
const offered = (html: string) => [...html.matchAll(/href="\/demo\/shop\?shopper=([^"]+)"/g)].map((m) => decodeURIComponent(m[1]!));

beforeAll(async () => {
  env = await gatewayEnv('demo_shop');
  const records: MappedRecord[] = [
    // Listed: shop account, an order, an open ticket.
    customer('A-1', 'Ann Lee', 'ann@example.com'),
    order('SO-A', 'ann@example.com'),
    ticket('T-A', 'open', 'ann@example.com'),
    // Not listed: only a closed ticket.
    customer('B-1', 'Bob Ma', 'bob@example.com'),
    order('SO-B', 'bob@example.com'),
    ticket('T-B', 'closed', 'bob@example.com'),
    // Not listed: no shop account.
    customer(null, 'Carl Xu', 'carl@example.com'),
    order('SO-C', 'carl@example.com'),
    ticket('T-C', 'pending', 'carl@example.com'),
    // Listed, with a name that must be escaped.
    customer('E-1', EVIL, 'eve@example.com'),
    order('SO-E', 'eve@example.com'),
    ticket('T-E', 'pending', 'eve@example.com'),
    // Listed, without a name: shown by nickname.
    mapped('shop_pg/accounts/F-1', { fields: { nickname: 'xiaofang', email: 'fang@example.com' }, keys: [['shop_account', 'F-1'], ['email', 'fang@example.com']] }),
    order('SO-F', 'fang@example.com'),
    ticket('T-F', 'open', 'fang@example.com'),
    // Not listed: no order.
    customer('D-1', 'Dora Wu', 'dora@example.com'),
    ticket('T-D', 'open', 'dora@example.com'),
  ];
  await inTx(env.db.pool, (tx) => applyBatch(tx, records, testRules()));
  gw = await env.start({ settings: { demo_shop: true } });
  off = await env.start();
}, 60_000);

afterAll(async () => {
  await env?.close();
});

describe('/demo/shop', () => {
  it('lists the shoppers with a shop account, orders and open tickets, by id, with the anonymous widget', async () => {
    const r = await page(gw.port);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect(r.html).toContain('<h1>Junction demo shop</h1>');
    expect(r.html).toContain('Sign in as');
    const ann = await customerOf(env.db.pool, 'shop_pg/accounts/A-1');
    const eve = await customerOf(env.db.pool, 'shop_pg/accounts/E-1');
    expect(ann).toBeLessThan(eve);
    expect(offered(r.html)).toEqual(['A-1', 'E-1', 'F-1']);
    expect(r.html).not.toContain('Signed in as');
    // Anonymous: the widget without identity attributes; no inline script anywhere.
    expect(widgetAttributes(r.html)).toEqual({ 'data-title': 'Junction demo shop' });
    expect([...r.html.matchAll(/<script\b[^>]*>/g)].every((m) => / src="/.test(m[0]))).toBe(true);
  });

  it('signs the shopper in: the widget carries an identity that verifies and links the visitor session', async () => {
    const r = await page(gw.port, '?shopper=A-1');
    expect(r.status).toBe(200);
    expect(r.html).toContain('Signed in as <strong>Ann Lee</strong>');
    expect(r.html).toMatch(/<a href="\/demo\/shop">Sign out<\/a>/);
    const a = widgetAttributes(r.html);
    const identity = JSON.parse(a['data-identity']!) as Record<string, string>;
    expect(identity).toEqual({ external_id: 'A-1', email: 'ann@example.com' });
    const timestamp = Number(a['data-timestamp']);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(120);
    const signed = { identity, timestamp, signature: a['data-signature']! };
    expect(verifyIdentity(signed, { secret: IDENTITY_SECRET, maxSkewSeconds: 300, region: 'CN' })).toEqual({ external_id: 'A-1', email: 'ann@example.com' });
    // A signature made with another secret would not verify: the page really signs.
    expect(() => verifyIdentity(signed, { secret: 'another-identity-secret', maxSkewSeconds: 300, region: 'CN' })).toThrow(/signature/);

    const session = await http(gw.port, 'POST', '/api/visitor/session', signed);
    expect(session.status).toBe(200);
    expect(session.json).toMatchObject({ identified: true, customerLinked: true });
  });

  it('names a shopper without a name by nickname', async () => {
    expect((await page(gw.port, '?shopper=F-1')).html).toContain('Signed in as <strong>xiaofang</strong>');
  });

  it('escapes every value it writes (a name with a script tag)', async () => {
    const list = await page(gw.port);
    const signedIn = await page(gw.port, '?shopper=E-1');
    for (const html of [list.html, signedIn.html]) {
      expect(html).not.toContain('<script>alert');
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#39;Neil &amp; Co');
    }
    expect(signedIn.html).toContain('Signed in as <strong>&lt;script&gt;');
    // A shopper id in the URL is escaped too, on the 404 page.
    const unknown = await page(gw.port, `?shopper=${encodeURIComponent('<img src=x onerror=alert(1)>')}`);
    expect(unknown.status).toBe(404);
    expect(unknown.html).not.toContain('<img');
    expect(unknown.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('answers 404 for a shop account that links no customer', async () => {
    const r = await page(gw.port, '?shopper=NOPE-9');
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.html).toContain('Shopper not found');
    expect(r.html).not.toContain('widget.js"');
  });

  it('offers at most the given number of shoppers', async () => {
    expect((await demoShoppers(env.db.pool, 'shop_account', 1)).map((s) => s.account)).toEqual(['A-1']);
    expect(await demoShoppers(env.db.pool, 'app_user')).toEqual([]);
  });

  it('is not there without gateway.demo_shop', async () => {
    const r = await http(off.port, 'GET', '/demo/shop');
    expect(r.status).toBe(404);
    expect(r.code).toBe('GW_BAD_REQUEST');
    expect((await http(off.port, 'GET', '/demo/shop?shopper=A-1')).status).toBe(404);
  });
});
