/**
 * The agent's network drops and comes back, for real: the agent's browser reaches the
 * gateway only through a TCP proxy (test/helpers/tcp-proxy.ts), and the test cuts it (every
 * connection dropped, new ones refused). Meanwhile the shopper writes three messages and the
 * agent types two replies, which stay pending while the banner says `Reconnecting`. Once the
 * proxy listens again on the same port, the agent console recovers by itself, and both sides
 * show every message of the conversation exactly once: the same seqs as gateway.message in
 * PostgreSQL, none missing, none doubled, no message stored twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/queue-harness.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { failureShot, launchBrowser, screenshot, until, type Actor } from './browser.js';
import { agentPage, messagesUntil, shownMessages, textUntil, widget, type ShownMessage } from './pages.js';
import { webEnv, type WebEnv } from './web-env.js';
import { SHOPPERS } from './web-source.js';

const SHOPPER = SHOPPERS[1]!; // Li Lei (en-US: the default team)
const WHILE_CUT = ['Are you still there?', '我再等一下', 'My order is WO2001'];
const REPLIES = ['Sorry, one moment please.', '马上为您查询。'];

let env: WebEnv;
let proxyPort: number;
let proxy: TcpProxy | undefined;
let shopper: Actor;
let agent: Actor;
let agentUser: Awaited<ReturnType<WebEnv['addAgent']>>;

beforeAll(async () => {
  proxyPort = await freePort();
  // The agent console's origin is the proxy's: the gateway must accept it.
  env = await webEnv('netdrop', { extraOriginPorts: [proxyPort] });
  proxy = await startTcpProxy('127.0.0.1', env.gateway.port, { port: proxyPort });
  agentUser = await env.addAgent('support', 'Nora Net');
  shopper = await launchBrowser('netdrop-shopper', { locale: 'en-US' });
  // Connections refused while the proxy is down are the point of the test.
  agent = await launchBrowser('netdrop-agent', { locale: 'en-US', allowConsole: [/^WebSocket connection to .* failed/] });
});

afterAll(async () => {
  await shopper?.close();
  await agent?.close();
  await proxy?.destroy();
  await env?.close();
});

async function storedRows(conversationId: number) {
  const res = await env.hub.pool.query<{ seq: string; sender_kind: string; client_msg_id: string; text: string }>(
    'SELECT seq, sender_kind, client_msg_id, text FROM gateway.message WHERE conversation_id = $1 ORDER BY seq',
    [conversationId],
  );
  return res.rows;
}

/** What one side shows, checked against the stored rows: each once, in seq order, none pending. */
function expectExactlyStored(side: string, shown: ShownMessage[], stored: Awaited<ReturnType<typeof storedRows>>): void {
  expect(shown.map((m) => m.seq), `${side}: seqs in order, each once`).toEqual(stored.map((r) => r.seq));
  expect(shown.map((m) => m.clientMsgId), `${side}: clientMsgIds`).toEqual(stored.map((r) => r.client_msg_id));
  shown.forEach((m, i) => expect(m.text, `${side}: text of seq ${m.seq}`).toContain(stored[i]!.text));
}

describe("the agent's network drops and returns", () => {
  it('no message is lost or doubled on either side', async () => {
    const shop = shopper.page;
    const page = agent.page;
    const agentUrl = `http://127.0.0.1:${proxyPort}`;
    try {
      await agentPage.login(page, agentUrl, agentUser);
      await shop.goto(`${env.gatewayUrl}/demo/shop?shopper=${SHOPPER.id}`);
      await widget.open(shop);
      await widget.send(shop, 'Hello, I have a question about an order.');
      await messagesUntil(widget.log(shop), (m) => m.length === 1 && m[0]!.seq === '1', 'the first message stored');
      const conv = await env.hub.pool.query<{ id: string; assigned_agent_id: string | null }>('SELECT id, assigned_agent_id FROM gateway.conversation');
      expect(conv.rows).toEqual([{ id: expect.any(String), assigned_agent_id: String(agentUser.id) }]);
      const conversationId = Number(conv.rows[0]!.id);

      await agentPage.open(page, conversationId);
      await agentPage.reply(page, 'Hi Li Lei, how can I help?');
      await messagesUntil(agentPage.log(page), (m) => m.length === 2 && m.every((x) => x.seq !== ''), 'two stored messages on the agent side');
      await messagesUntil(widget.log(shop), (m) => m.length === 2, 'the reply reached the widget');
      expect(await agentPage.connection(page).filter({ hasText: 'Reconnecting' }).count()).toBe(0);

      // Cut the agent's network.
      await proxy!.destroy();
      proxy = undefined;
      await textUntil(agentPage.connection(page), /Reconnecting/);

      for (const text of WHILE_CUT) {
        await widget.send(shop, text);
        await messagesUntil(widget.log(shop), (m) => m.some((x) => x.text.includes(text) && x.seq !== ''), `"${text}" stored`);
      }
      for (const text of REPLIES) await agentPage.reply(page, text);
      const pending = await messagesUntil(agentPage.log(page), (m) => REPLIES.every((r) => m.some((x) => x.text.includes(r))), 'the replies shown pending');
      for (const r of REPLIES) {
        expect(pending.filter((x) => x.text.includes(r)), `"${r}" pending`).toEqual([expect.objectContaining({ seq: '', mine: 'true' })]);
      }
      expect(pending.filter((x) => WHILE_CUT.some((t) => x.text.includes(t))), 'nothing reaches the agent while cut').toEqual([]);
      expect((await storedRows(conversationId)).map((r) => r.text)).toEqual(['Hello, I have a question about an order.', 'Hi Li Lei, how can I help?', ...WHILE_CUT]);
      await textUntil(agentPage.connection(page), /Reconnecting/);
      // Only the agent was cut: the shopper's widget stays online.
      expect(await widget.connection(shop).filter({ hasText: 'Reconnecting' }).count()).toBe(0);
      await screenshot(page, 'agent-reconnecting');

      // The network returns on the same address.
      proxy = await startTcpProxy('127.0.0.1', env.gateway.port, { port: proxyPort });
      const total = 2 + WHILE_CUT.length + REPLIES.length;
      await messagesUntil(agentPage.log(page), (m) => m.length >= total && m.every((x) => x.seq !== ''), 'every message stored on the agent side', 30_000);
      await until(
        async () => ((await agentPage.connection(page).filter({ hasText: 'Reconnecting' }).count()) === 0 ? true : undefined),
        'the Reconnecting banner goes away',
        15_000,
      );
      await messagesUntil(widget.log(shop), (m) => m.length >= total, 'every message on the shopper side');

      const stored = await storedRows(conversationId);
      expect(stored.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => String(i + 1)));
      expect(stored.filter((r) => r.sender_kind === 'agent').map((r) => r.text).slice(1).sort()).toEqual([...REPLIES].sort());
      for (const text of [...WHILE_CUT, ...REPLIES]) expect(stored.filter((r) => r.text === text), `"${text}" stored once`).toHaveLength(1);
      // A moment later nothing more has arrived (a late resend or replay would show now).
      await new Promise((r) => setTimeout(r, 1500));
      expectExactlyStored('agent', await shownMessages(agentPage.log(page)), stored);
      expectExactlyStored('shopper', await shownMessages(widget.log(shop)), stored);
      expect((await storedRows(conversationId)).length).toBe(total);
      await screenshot(page, 'agent-after-reconnect');
      await screenshot(shop, 'widget-after-agent-reconnect');
      shopper.errors.check();
      agent.errors.check();
    } catch (err) {
      await failureShot(shopper);
      await failureShot(agent);
      throw err;
    }
  }, 120_000);
});
