/**
 * An anonymous visitor (not signed in on /demo/shop) chats too: the agent gets the
 * conversation without a customer ("No customer linked"), answers, the visitor receives it;
 * after a reload the widget shows the same conversation's history (its visitor token is kept
 * in localStorage) and a new message goes to the same conversation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureShot, launchBrowser, screenshot, type Actor } from './browser.js';
import { agentPage, messagesUntil, textUntil, widget } from './pages.js';
import { webEnv, type WebEnv } from './web-env.js';

let env: WebEnv;
let visitor: Actor;
let agent: Actor;
let agentUser: Awaited<ReturnType<WebEnv['addAgent']>>;

beforeAll(async () => {
  env = await webEnv('anon');
  agentUser = await env.addAgent('support', 'Ava Anon');
  // en-US: no routing rule matches, so the default team (support) gets it.
  visitor = await launchBrowser('anon-visitor', { locale: 'en-US' });
  agent = await launchBrowser('anon-agent', { locale: 'en-US' });
});

afterAll(async () => {
  await visitor?.close();
  await agent?.close();
  await env?.close();
});

describe('an anonymous visitor', () => {
  it('chats without a customer, and finds the conversation again after a reload', async () => {
    const shop = visitor.page;
    const page = agent.page;
    try {
      await agentPage.login(page, env.gatewayUrl, agentUser);
      await shop.goto(`${env.gatewayUrl}/demo/shop`);
      expect(await shop.getByText(/Signed in as/).count()).toBe(0);
      await widget.open(shop);
      await widget.send(shop, 'Do you ship to Hangzhou?');
      await messagesUntil(widget.log(shop), (m) => m.length === 1 && m[0]!.seq === '1', 'the first message stored');

      const conv = await env.hub.pool.query<{ id: string; customer_id: string | null; assigned_agent_id: string | null }>('SELECT id, customer_id, assigned_agent_id FROM gateway.conversation');
      expect(conv.rows).toEqual([{ id: expect.any(String), customer_id: null, assigned_agent_id: String(agentUser.id) }]);
      const conversationId = Number(conv.rows[0]!.id);

      await agentPage.open(page, conversationId);
      await textUntil(agentPage.panel(page), /No customer linked/);
      await agentPage.reply(page, 'Yes, in 2 to 3 days.');
      await messagesUntil(widget.log(shop), (m) => m.length === 2 && m[1]!.text.includes('Yes, in 2 to 3 days.') && m[1]!.mine === 'false', 'the reply in the widget');

      await shop.reload();
      await widget.open(shop);
      const history = await messagesUntil(widget.log(shop), (m) => m.length === 2, 'the history after a reload');
      expect(history.map((m) => m.seq)).toEqual(['1', '2']);
      await widget.send(shop, 'Great, thanks!');
      await messagesUntil(agentPage.log(page), (m) => m.length === 3 && m[2]!.text.includes('Great, thanks!'), 'the third message at the agent');
      const stored = await env.hub.pool.query<{ conversation_id: string; seq: string }>('SELECT conversation_id, seq FROM gateway.message ORDER BY seq');
      expect(stored.rows).toEqual([1, 2, 3].map((seq) => ({ conversation_id: String(conversationId), seq: String(seq) })));
      await screenshot(shop, 'widget-anonymous');
      visitor.errors.check();
      agent.errors.check();
    } catch (err) {
      await failureShot(visitor);
      await failureShot(agent);
      throw err;
    }
  }, 120_000);
});
