/**
 * The first story in a real browser (Debian's Chromium): a shopper signed in on
 * /demo/shop opens the widget and writes in English and Chinese; the conversation is routed
 * by the browser's language to the Chinese-speaking team; its agent logs in on /agent, sees
 * `Conversation #…`, opens it, and the customer panel shows that shopper's orders and open
 * tickets exactly as the unified view holds them; the agent answers with a canned reply
 * plus text, and the shopper receives it in the widget. Screenshots of each page at
 * 1280×800 and 390×844 go to test-artifacts/screenshots/.
 */
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureShot, launchBrowser, screenshot, settle, SIZES, until, type Actor } from './browser.js';
import { agentPage, headed, messagesUntil, textUntil, widget } from './pages.js';
import { CN_TEAM, webEnv, type WebEnv } from './web-env.js';
import { SHOPPERS, WEB_SOURCE } from './web-source.js';

const SHOPPER = SHOPPERS[0]!; // 王芳, S1001: three orders, two open tickets and a closed one
const FIRST = 'where is my order? 我的订单在哪里';
const EXTRA = ' 我们会尽快处理。';

let env: WebEnv;
let shopper: Actor;
let agent: Actor;
let agentUser: Awaited<ReturnType<WebEnv['addAgent']>>;

beforeAll(async () => {
  env = await webEnv('shop');
  agentUser = await env.addAgent(CN_TEAM, '李娜 Lina');
  // Another team's agent: a conversation routed to the default team would go to them.
  await env.addAgent('support', 'Sam Support');
  // The widget reports navigator.language; zh-CN routes to cn_support (`language: [zh]`).
  shopper = await launchBrowser('shop-to-agent-shopper', { locale: 'zh-CN' });
  agent = await launchBrowser('shop-to-agent-agent', { locale: 'en-US' });
});

afterAll(async () => {
  await shopper?.close();
  await agent?.close();
  await env?.close();
});

/** The unified view's rows for the customer (orders with lines, open tickets), and every other order and ticket number. */
async function unifiedRows(customerId: number) {
  const orders = await env.hub.pool.query<{ order_no: string; status: string; lines: { name: string; sku: string }[] }>(
    'SELECT order_no, status, lines FROM unified."order" WHERE customer_id = $1 ORDER BY order_no',
    [customerId],
  );
  const tickets = await env.hub.pool.query<{ ticket_no: string; subject: string }>(
    `SELECT ticket_no, subject FROM unified.ticket WHERE customer_id = $1 AND status IN ('open', 'pending') ORDER BY ticket_no`,
    [customerId],
  );
  const otherOrders = await env.hub.pool.query<{ no: string }>('SELECT order_no AS no FROM unified."order" WHERE customer_id <> $1', [customerId]);
  const otherTickets = await env.hub.pool.query<{ no: string }>(
    `SELECT ticket_no AS no FROM unified.ticket WHERE customer_id <> $1 OR status NOT IN ('open', 'pending')`,
    [customerId],
  );
  return { orders: orders.rows, tickets: tickets.rows, otherOrders: otherOrders.rows.map((r) => r.no), otherTickets: otherTickets.rows.map((r) => r.no) };
}

/** Waits until the text of `loc` contains every one of `wanted`; returns it. */
async function textWithAll(loc: Locator, wanted: string[], what: string): Promise<string> {
  let shown = '';
  return until(
    async () => {
      shown = (await loc.textContent({ timeout: 1000 }).catch(() => null)) ?? '';
      return wanted.every((w) => shown.includes(w)) ? shown : undefined;
    },
    `${what} shows ${wanted.join(', ')}`,
    15_000,
    async () => `missing ${wanted.filter((w) => !shown.includes(w)).join(', ')}; text ${JSON.stringify(shown.slice(0, 600))}`,
  );
}

describe('shop → widget → agent console → widget', () => {
  it('a signed-in shopper writes; the agent sees her orders and tickets and answers with a canned reply', async () => {
    const shop = shopper.page;
    const page = agent.page;
    try {
      // The shop lists shoppers with orders and open tickets (Anna has neither).
      await shop.goto(`${env.gatewayUrl}/demo/shop`);
      await shop.getByRole('heading', { name: 'Junction demo shop' }).waitFor();
      const signIn = shop.getByRole('complementary').filter({ has: shop.getByRole('heading', { name: 'Sign in as' }) });
      const links = await signIn.getByRole('link').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href')));
      expect(links).toEqual([`/demo/shop?shopper=${SHOPPERS[0]!.id}`, `/demo/shop?shopper=${SHOPPERS[1]!.id}`]);
      await screenshot(shop, 'demo-shop');

      await shop.getByRole('link', { name: SHOPPER.name }).click();
      await shop.waitForURL(`**/demo/shop?shopper=${SHOPPER.id}`);
      await textUntil(shop.locator('body'), new RegExp(`Signed in as\\s*${SHOPPER.name}`));
      await shop.getByRole('link', { name: 'Sign out' }).waitFor();
      await screenshot(shop, 'demo-shop-signed-in');

      await widget.open(shop);
      await widget.send(shop, FIRST);
      const sent = await messagesUntil(widget.log(shop), (m) => m.some((x) => x.text.includes(FIRST) && x.seq !== ''));
      expect(sent.filter((m) => m.text.includes(FIRST))).toEqual([expect.objectContaining({ seq: '1', mine: 'true' })]);
      await screenshot(shop, 'widget-open');

      // Stored, routed by language to cn_support, linked to her unified customer.
      const conv = await env.hub.pool.query<{ id: string; team: string; customer_id: string | null; meta: { language?: string; url?: string } }>(
        'SELECT id, team, customer_id, meta FROM gateway.conversation',
      );
      expect(conv.rows).toHaveLength(1);
      const c = conv.rows[0]!;
      const customer = await env.hub.pool.query<{ customer_id: string }>(`SELECT customer_id FROM unified.customer_identity WHERE kind = 'shop_account' AND value = $1`, [SHOPPER.id]);
      expect(c).toMatchObject({ team: CN_TEAM, customer_id: customer.rows[0]!.customer_id, meta: { language: 'zh-CN' } });
      // The page she wrote from, without its query (?shopper=… names her account).
      expect(c.meta.url).toBe(`${env.gatewayUrl}/demo/shop`);
      const conversationId = Number(c.id);
      const customerId = Number(c.customer_id);

      // The agent logs in and finds the conversation.
      await page.goto(`${env.gatewayUrl}/agent`);
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      await screenshot(page, 'agent-login');
      await agentPage.login(page, env.gatewayUrl, agentUser);
      await textUntil(page.locator('header, [role=banner]').first(), /李娜 Lina[\s\S]*cn_support|cn_support[\s\S]*李娜 Lina/);
      // Its list entry names her (the conversation is linked to her customer).
      await agentPage.nav(page).getByRole('button', { name: new RegExp(`^Conversation #${conversationId}(?!\\d).*${SHOPPER.name}`) }).waitFor();
      await screenshot(page, 'agent-list');
      await agentPage.open(page, conversationId);
      await messagesUntil(agentPage.log(page), (m) => m.some((x) => x.seq === '1' && x.text.includes(FIRST) && x.mine === 'false'));

      // The panel: her orders and open tickets, as the unified view holds them, and no one else's.
      const want = await unifiedRows(customerId);
      expect(want.orders.map((o) => o.order_no)).toEqual(['WO1001', 'WO1002', 'WO1003']);
      expect(want.tickets.map((t) => t.ticket_no)).toEqual(['T5001', 'T5002']);
      const panel = agentPage.panel(page);
      for (const h of ['Customer', 'Identities', 'Orders', 'CRM profile', 'Open tickets']) {
        await panel.getByRole('heading', { name: h, exact: true, level: 2 }).waitFor();
      }
      await textWithAll(headed(panel, 'Customer'), [SHOPPER.name, SHOPPER.email], 'the Customer section');
      const ordersText = await textWithAll(
        headed(panel, 'Orders'),
        want.orders.flatMap((o) => [o.order_no, o.status, ...o.lines.map((l) => l.name)]),
        'the Orders section',
      );
      for (const no of want.otherOrders) expect(ordersText, `${no} is not hers`).not.toContain(no);
      const ticketsText = await textWithAll(headed(panel, 'Open tickets'), want.tickets.flatMap((t) => [t.ticket_no, t.subject]), 'the Open tickets section');
      for (const no of want.otherTickets) expect(ticketsText, `${no} is not hers or not open`).not.toContain(no);
      // Each golden value tells where it comes from (focus shows its lineage tooltip).
      const nameValue = headed(panel, 'Customer').getByText(SHOPPER.name, { exact: true });
      await nameValue.focus();
      await textWithAll(page.getByRole('tooltip'), [`${WEB_SOURCE}.accounts`, SHOPPER.id, `${WEB_SOURCE}.accounts.yaml:10`], 'the lineage tooltip of the name');
      await nameValue.blur();
      await screenshot(page, 'agent-conversation');

      // A canned reply, rendered for her, plus text; Enter sends.
      await agentPage.chat(page).getByRole('button', { name: 'Canned replies' }).click();
      await page.getByRole('menuitem', { name: 'Order status' }).click();
      const canned = 'Hi 王芳, your latest order WO1003 is delivered.';
      const composer = agentPage.composer(page);
      await until(async () => ((await composer.inputValue()) === canned ? true : undefined), 'the canned reply in the composer', 10_000, async () => JSON.stringify(await composer.inputValue()));
      await composer.press('End');
      await composer.pressSequentially(EXTRA);
      await composer.press('Enter');
      const reply = canned + EXTRA;
      await messagesUntil(agentPage.log(page), (m) => m.some((x) => x.text.includes(reply) && x.mine === 'true' && x.seq === '2'));
      expect(await composer.inputValue()).toBe('');

      // The shopper receives it, once.
      const got = await messagesUntil(widget.log(shop), (m) => m.some((x) => x.text.includes(reply)));
      expect(got.map((m) => ({ seq: m.seq, mine: m.mine }))).toEqual([
        { seq: '1', mine: 'true' },
        { seq: '2', mine: 'false' },
      ]);
      await screenshot(shop, 'widget-reply');
      // Her open widget marks it read; the agent's message shows the Read mark.
      const replyEl = agentPage.log(page).locator('[data-seq="2"]');
      await replyEl.getByRole('img', { name: 'Read', exact: true }).or(replyEl.getByLabel('Read', { exact: true })).first().waitFor();

      const stored = await env.hub.pool.query<{ seq: string; sender_kind: string; text: string }>('SELECT seq, sender_kind, text FROM gateway.message WHERE conversation_id = $1 ORDER BY seq', [conversationId]);
      expect(stored.rows).toEqual([
        { seq: '1', sender_kind: 'visitor', text: FIRST },
        { seq: '2', sender_kind: 'agent', text: reply },
      ]);

      // On a 390-px screen: one column at a time, the panel behind the Customer toggle, the list behind Back.
      await page.setViewportSize(SIZES[1]);
      await settle(page);
      await page.getByRole('button', { name: 'Customer', exact: true }).click();
      await headed(panel, 'Orders').getByText('WO1001').waitFor({ state: 'visible' });
      await screenshot(page, 'agent-panel-narrow', [SIZES[1]]);
      await page.getByRole('button', { name: 'Back to conversations' }).click();
      await agentPage.conversation(page, conversationId).waitFor({ state: 'visible' });
      await screenshot(page, 'agent-list-narrow', [SIZES[1]]);
      await page.setViewportSize(SIZES[0]);

      shopper.errors.check();
      agent.errors.check();
    } catch (err) {
      await failureShot(shopper);
      await failureShot(agent);
      throw err;
    }
  }, 90_000);
});

