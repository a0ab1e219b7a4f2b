/**
 * Accessibility smoke of every page, at 1280×800 and 390×844: each visible button, input,
 * textarea and select has an accessible name, as the browser's accessibility tree computes
 * it (inside the widget's shadow root too). Pages are visited in the states that show their
 * controls: /demo/shop with the widget open and a message sent, /agent's login and its
 * console with a conversation, its canned-replies menu and transfer dialog open, /ops's
 * login and its console.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureShot, launchBrowser, settle, SIZES, unnamedControls, type Actor, type UnnamedControl } from './browser.js';
import { agentPage, messagesUntil, opsPage, widget } from './pages.js';
import { webEnv, type WebEnv } from './web-env.js';
import { SHOPPERS } from './web-source.js';

let env: WebEnv;
let actor: Actor;

beforeAll(async () => {
  env = await webEnv('a11y');
  actor = await launchBrowser('a11y', { locale: 'en-US' });
});

afterAll(async () => {
  await actor?.close();
  await env?.close();
});

/** Checks the page at both sizes; returns the problems as `<state> @ <size>: <control>`. */
async function audit(page: Page, state: string): Promise<string[]> {
  const problems: string[] = [];
  const before = page.viewportSize();
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await settle(page);
    const { checked, unnamed } = await unnamedControls(page);
    if (checked === 0) problems.push(`${state} @ ${size.width}x${size.height}: no control found at all`);
    problems.push(...unnamed.map((u: UnnamedControl) => `${state} @ ${size.width}x${size.height}: ${u.aria || '(not in the accessibility tree)'} ${u.html}`));
  }
  if (before) await page.setViewportSize(before);
  return problems;
}

describe('accessible names on every control', () => {
  it('the check itself finds unnamed controls, in an open shadow root too', async () => {
    const page = await actor.context.newPage();
    await page.setContent(`<main>
      <button>Named</button><button aria-label="Also named"><svg></svg></button><button><svg></svg></button>
      <label>Email <input type="email"></label><input placeholder="only a placeholder"><input type="hidden">
      <select><option>a</option></select><textarea aria-labelledby="t"></textarea><span id="t">Message</span>
      <div id="host"></div></main>`);
    await page.evaluate(() => {
      const root = document.getElementById('host')!.attachShadow({ mode: 'open' });
      root.innerHTML = '<button aria-label="Open chat">💬</button><textarea></textarea>';
    });
    const { checked, unnamed } = await unnamedControls(page);
    await page.close();
    expect(checked).toBe(9);
    // A placeholder is a name of last resort in the accessibility tree: accepted like the browser does.
    expect(unnamed.map((u) => u.html)).toEqual(['<button><svg></svg></button>', '<select><option>a</option></select>', '<textarea></textarea>']);
  });

  it('/demo/shop with the widget, /agent, /ops', async () => {
    const page = actor.page;
    const problems: string[] = [];
    try {
      // The shop and the widget.
      await page.goto(`${env.gatewayUrl}/demo/shop?shopper=${SHOPPERS[1]!.id}`);
      await widget.launcher(page).waitFor();
      problems.push(...(await audit(page, 'demo shop, widget closed')));
      await widget.open(page);
      await widget.send(page, 'Accessibility check 无障碍');
      await messagesUntil(widget.log(page), (m) => m.length === 1 && m[0]!.seq !== '');
      problems.push(...(await audit(page, 'demo shop, widget open')));

      // The agent console (another tab of this browser: sessionStorage is per tab).
      const agentUser = await env.addAgent('support', 'Ada Access');
      const conv = await env.hub.pool.query<{ id: string }>('SELECT id FROM gateway.conversation');
      const agent = await actor.context.newPage();
      await agent.goto(`${env.gatewayUrl}/agent`);
      await agent.getByRole('button', { name: 'Log in' }).waitFor();
      problems.push(...(await audit(agent, 'agent login')));
      await agentPage.login(agent, env.gatewayUrl, agentUser);
      await agentPage.open(agent, Number(conv.rows[0]!.id));
      await agentPage.panel(agent).getByRole('heading', { name: 'Orders', level: 2 }).waitFor();
      problems.push(...(await audit(agent, 'agent conversation')));
      await agentPage.chat(agent).getByRole('button', { name: 'Canned replies' }).click();
      await agent.getByRole('menuitem').first().waitFor();
      problems.push(...(await audit(agent, 'agent canned replies menu')));
      await agent.keyboard.press('Escape');
      await agentPage.chat(agent).getByRole('button', { name: 'Transfer', exact: true }).click();
      const dialog = agent.getByRole('dialog');
      await dialog.getByLabel('Transfer to').waitFor();
      problems.push(...(await audit(agent, 'agent transfer dialog')));
      await agent.keyboard.press('Escape');
      await agent.close();

      // The ops console.
      const ops = await actor.context.newPage();
      await ops.goto(`${env.ops.url}/ops`);
      await ops.getByLabel('Admin token').waitFor();
      problems.push(...(await audit(ops, 'ops login')));
      await opsPage.signIn(ops, env.ops.url, env.adminToken);
      await ops.getByRole('button', { name: /^Sync now / }).first().waitFor();
      problems.push(...(await audit(ops, 'ops console')));
      await ops.close();

      expect(problems).toEqual([]);
      actor.errors.check();
    } catch (err) {
      await failureShot(actor);
      throw err;
    }
  }, 90_000);
});
