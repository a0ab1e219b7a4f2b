/**
 * `/demo/shop` (only with `gateway.demo_shop: true`): a sample retailer page for the demo. It
 * plays the retailer's server: "signing in" as a seeded shopper (one with a shop account,
 * orders and open tickets in the unified view) makes it sign that shopper's identity with
 * `gateway.identity_secret`, server side, and hand the signature to the embedded widget, so
 * the agent sees the right customer at once. Without a shopper the widget is anonymous.
 *
 * Anyone who can open this page can chat as any listed shopper: demo only, never in
 * production. It is server-rendered (every value HTML-escaped) with the web UI's CSP (no
 * inline script; the widget is `/widget.js`).
 */
import express from 'express';
import { signIdentity, type IdentityClaims } from '../auth/identity.js';
import type { GatewayContext } from '../context.js';
import { OPEN_TICKET_STATUSES } from '../enrich/panel.js';
import type { Db } from '../store/db.js';
import { pageHeaders } from './web.js';

/** How many shoppers the page offers. */
export const SHOPPER_LIMIT = 8;

export interface Shopper {
  /** The shop account id (`gateway.external_id_kind` identity). */
  account: string;
  customerId: number;
  name: string | null;
  email: string | null;
}

interface ShopperRow {
  account: string;
  id: string;
  name: string | null;
  email: string | null;
}

const toShopper = (r: ShopperRow): Shopper => ({ account: r.account, customerId: Number(r.id), name: r.name, email: r.email });

/**
 * Customers with a shop account, orders and open tickets, by id. Their accounts are found
 * through their records' keys (`source_record` by customer), checked against the identity
 * rows by primary key: only a `link` identity names one customer for sure.
 */
export async function demoShoppers(db: Db, externalIdKind: string, limit = SHOPPER_LIMIT): Promise<Shopper[]> {
  const { rows } = await db.query<ShopperRow>(
    `SELECT account, id, name, email FROM (
       SELECT c.id, coalesce(c.name, c.nickname) AS name, c.email,
              (SELECT min(ci.value)
                 FROM unified.source_record sr, unnest(sr.identity_keys) AS key
                 JOIN unified.customer_identity ci
                   ON ci.kind = $1 AND ci.value = substr(key, length($1) + 2) AND ci.customer_id = c.id AND ci.state = 'link'
                WHERE sr.customer_id = c.id AND left(key, length($1) + 1) = $1 || ':') AS account
         FROM unified.customer c
        WHERE c.merged_into IS NULL
          AND EXISTS (SELECT 1 FROM unified."order" o WHERE o.customer_id = c.id)
          AND EXISTS (SELECT 1 FROM unified.ticket t WHERE t.customer_id = c.id AND t.status = ANY($2::text[]))
        ORDER BY c.id
     ) s
     WHERE account IS NOT NULL ORDER BY id LIMIT $3`,
    [externalIdKind, OPEN_TICKET_STATUSES, limit],
  );
  return rows.map(toShopper);
}

/** The customer a shop account links (null when none does). */
export async function findShopper(db: Db, externalIdKind: string, account: string): Promise<Shopper | null> {
  const { rows } = await db.query<ShopperRow>(
    `SELECT ci.value AS account, c.id, coalesce(c.name, c.nickname) AS name, c.email
       FROM unified.customer_identity ci JOIN unified.customer c ON c.id = ci.customer_id
      WHERE ci.kind = $1 AND ci.value = $2 AND ci.state = 'link' AND c.merged_into IS NULL`,
    [externalIdKind, account],
  );
  return rows[0] ? toShopper(rows[0]) : null;
}

/** The widget's identity attributes for a shopper: the claims, now, signed with the shared secret. */
export function signedShopperAttributes(shopper: Shopper, secret: string, now = Date.now()): { identity: string; timestamp: string; signature: string } {
  const claims: IdentityClaims = { external_id: shopper.account, ...(shopper.email ? { email: shopper.email } : {}) };
  const timestamp = Math.floor(now / 1000);
  return { identity: JSON.stringify(claims), timestamp: String(timestamp), signature: signIdentity(claims, timestamp, secret) };
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and (double- or single-quoted) attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** Template tag: interpolated values are escaped unless wrapped by {@link raw}. */
class Raw {
  constructor(readonly html: string) {}
}
const raw = (html: string) => new Raw(html);
function html(strings: TemplateStringsArray, ...values: (string | number | Raw | Raw[])[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => {
    const parts = Array.isArray(v) ? v : [v];
    out += parts.map((p) => (p instanceof Raw ? p.html : escapeHtml(String(p)))).join('') + strings[i + 1]!;
  });
  return raw(out);
}

const PRODUCTS = [
  { name: 'Ceramic tea set · 青瓷茶具', price: '¥ 268.00', hue: 160 },
  { name: 'Desk lamp · 护眼台灯', price: '¥ 139.50', hue: 40 },
  { name: 'Bamboo cutting board · 竹砧板', price: '¥ 59.90', hue: 95 },
  { name: 'Silk scarf · 真丝围巾', price: '¥ 329.00', hue: 330 },
  { name: 'Rice cooker · 电饭煲', price: '¥ 499.00', hue: 210 },
  { name: 'Travel mug · 保温杯', price: '¥ 89.00', hue: 15 },
];

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;color:#1f2933;background:#f7f7f4;line-height:1.5}
header{display:flex;flex-wrap:wrap;gap:8px 24px;align-items:center;justify-content:space-between;padding:16px 24px;background:#fff;border-bottom:1px solid #e4e4de}
h1{margin:0;font-size:1.35rem}
h2{font-size:1.05rem;margin:0 0 12px}
a{color:#0b5cad}
a:focus-visible{outline:3px solid #0b5cad;outline-offset:2px}
main{max-width:1040px;margin:0 auto;padding:24px;display:grid;grid-template-columns:1fr 280px;gap:24px;align-items:start}
.account{font-size:.95rem}
.products{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:16px;list-style:none;margin:0;padding:0}
.product{background:#fff;border:1px solid #e4e4de;border-radius:10px;overflow:hidden}
.product .art{height:110px}
.product div.text{padding:10px 12px}
.product .name{font-weight:600;font-size:.95rem}
.product .price{color:#52606d;font-size:.9rem}
aside{background:#fff;border:1px solid #e4e4de;border-radius:10px;padding:16px}
aside ul{list-style:none;margin:0;padding:0}
aside li+li{margin-top:6px}
aside .who{display:block;color:#52606d;font-size:.8rem}
.note{color:#52606d;font-size:.85rem;margin:12px 0 0}
code{font-size:.8rem;overflow-wrap:anywhere}
@media (max-width:720px){main{grid-template-columns:1fr;padding:16px}header{padding:12px 16px}aside{order:-1}.products{grid-template-columns:repeat(2,minmax(0,1fr));gap:12px}.product .art{height:80px}}
`;

const PRODUCT_ART = PRODUCTS.map((p, i) => `.art-${i}{background:linear-gradient(135deg,hsl(${p.hue} 55% 82%),hsl(${p.hue} 45% 62%))}`).join('');

function page(opts: { title: string; body: Raw; widget: Raw | null }): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${opts.title}</title>
<style>${raw(STYLE + PRODUCT_ART)}</style>
</head>
<body>
${opts.body}
${opts.widget ?? raw('')}
</body>
</html>
`.html;
}

function shopperLabel(s: Shopper): string {
  return s.name ?? s.account;
}

function shopPage(shoppers: Shopper[], current: Shopper | null, widget: Raw): string {
  const account = current
    ? html`<p class="account">Signed in as <strong>${shopperLabel(current)}</strong> (account ${current.account}) · <a href="/demo/shop">Sign out</a></p>`
    : html`<p class="account">Not signed in: the chat is anonymous.</p>`;
  const products = PRODUCTS.map(
    (p, i) => html`<li class="product"><div class="art art-${i}" aria-hidden="true"></div><div class="text"><div class="name">${p.name}</div><div class="price">${p.price}</div></div></li>`,
  );
  const list =
    shoppers.length > 0
      ? html`<ul>${shoppers.map((s) => html`<li><a href="/demo/shop?shopper=${encodeURIComponent(s.account)}"${raw(current?.account === s.account ? ' aria-current="true"' : '')}>${shopperLabel(s)}</a><span class="who">${s.account}${s.email ? ` · ${s.email}` : ''}</span></li>`)}</ul>`
      : html`<p>No shopper with a shop account, orders and open tickets is in the unified view yet: run a sync (npm run demo does).</p>`;
  return page({
    title: 'Junction demo shop',
    widget,
    body: html`<header><h1>Junction demo shop</h1>${account}</header>
<main>
<section aria-labelledby="products-h"><h2 id="products-h">Products</h2><ul class="products">${products}</ul>
<p class="note">A sample retailer page for the Junction demo. The chat bubble is the embeddable widget (<code>&lt;script src="/widget.js" async&gt;</code>); a signed-in shopper's identity is signed by this page's server, so the agent sees their orders and tickets.</p></section>
<aside aria-labelledby="signin-h"><h2 id="signin-h">Sign in as</h2>${list}</aside>
</main>`,
  });
}

function notFoundPage(account: string): string {
  return page({
    title: 'Shopper not found · Junction demo shop',
    widget: null,
    body: html`<header><h1>Junction demo shop</h1></header><main><section><h2>Shopper not found</h2><p>No customer in the unified view has the shop account ${account}.</p><p><a href="/demo/shop">Back to the shop</a></p></section></main>`,
  });
}

/** The demo shop page. Mount only when `gateway.demo_shop` is on. */
export function demoShopRoutes(ctx: GatewayContext): express.Router {
  const router = express.Router();
  router.get('/demo/shop', async (req, res) => {
    const kind = ctx.settings.external_id_kind;
    const q = req.query.shopper;
    const wanted = typeof q === 'string' && q !== '' ? q.slice(0, 256) : null;
    pageHeaders(res);
    res.type('html');
    const current = wanted === null ? null : await findShopper(ctx.pool, kind, wanted);
    if (wanted !== null && current === null) {
      res.status(404).send(notFoundPage(wanted));
      return;
    }
    const shoppers = await demoShoppers(ctx.pool, kind);
    let attrs = '';
    if (current && ctx.settings.identity_secret) {
      const signed = signedShopperAttributes(current, ctx.settings.identity_secret);
      attrs = html` data-identity='${signed.identity}' data-timestamp="${signed.timestamp}" data-signature="${signed.signature}"`.html;
    }
    const widget = html`<script src="/widget.js" async data-title="Junction demo shop"${raw(attrs)}></script>`;
    res.send(shopPage(shoppers, current, widget));
  });
  return router;
}
