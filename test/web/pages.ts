/**
 * The pages as the tests drive them, by the accessible names of the issue 7 contract
 * (roles, labels, button names) and the message elements' data attributes; nothing here
 * knows a CSS class. Playwright's locators pierce the widget's open shadow root.
 */
import type { Locator, Page } from 'playwright-core';
import { until } from './browser.js';

export interface ShownMessage {
  /** `data-seq`: '' while pending. */
  seq: string;
  clientMsgId: string;
  mine: string;
  text: string;
}

/** Every message element under `log` with its data attributes and text. */
export async function shownMessages(log: Locator): Promise<ShownMessage[]> {
  return log.locator('[data-client-msg-id]').evaluateAll((els) =>
    els.map((e) => {
      const d = (e as HTMLElement).dataset;
      return { seq: d.seq ?? '', clientMsgId: d.clientMsgId ?? '', mine: d.mine ?? '', text: e.textContent ?? '' };
    }),
  );
}

/** Waits until `pred` holds for the messages under `log`; returns them. */
export async function messagesUntil(log: Locator, pred: (m: ShownMessage[]) => boolean, what = 'messages', timeoutMs = 15_000): Promise<ShownMessage[]> {
  return until(
    async () => {
      const m = await shownMessages(log).catch(() => []);
      return pred(m) ? m : undefined;
    },
    what,
    timeoutMs,
    async () => JSON.stringify(await shownMessages(log)),
  );
}

/** Waits until the locator's text matches. */
export async function textUntil(loc: Locator, re: RegExp, timeoutMs = 15_000): Promise<string> {
  let last = '';
  return until(
    async () => {
      last = (await loc.textContent({ timeout: 1000 }).catch(() => null)) ?? '';
      return re.test(last) ? last : undefined;
    },
    `text ${re}`,
    timeoutMs,
    async () => `${await loc.count()} element(s) match; text ${JSON.stringify(last.slice(0, 500))}`,
  );
}

/**
 * The part of `root` under the heading `name`: the innermost section, region, tab panel or
 * group that holds that heading.
 */
export function headed(root: Locator, name: string): Locator {
  return root
    .locator('section, [role=region], [role=tabpanel], [role=group]')
    .filter({ has: root.page().getByRole('heading', { name, exact: true }) })
    .last();
}

// ---- widget (on /demo/shop) ----

export const widget = {
  launcher: (page: Page) => page.getByRole('button', { name: 'Open chat' }),
  dialog: (page: Page) => page.getByRole('dialog', { name: 'Chat with us' }),
  log: (page: Page) => widget.dialog(page).getByRole('log', { name: 'Messages' }),
  composer: (page: Page) => widget.dialog(page).getByRole('textbox', { name: 'Message' }),
  connection: (page: Page) => widget.dialog(page).getByRole('status', { name: 'Connection' }),

  async open(page: Page): Promise<void> {
    await widget.launcher(page).click();
    await widget.dialog(page).waitFor({ state: 'visible' });
  },

  /** Writes and sends with the Send button. */
  async send(page: Page, text: string): Promise<void> {
    await widget.composer(page).fill(text);
    await widget.dialog(page).getByRole('button', { name: 'Send', exact: true }).click();
  },
};

// ---- agent console (/agent) ----

export const agentPage = {
  nav: (page: Page) => page.getByRole('navigation', { name: 'Conversations' }),
  chat: (page: Page) => page.getByRole('region', { name: 'Chat' }),
  log: (page: Page) => agentPage.chat(page).getByRole('log', { name: 'Messages' }),
  composer: (page: Page) => agentPage.chat(page).getByRole('textbox', { name: 'Message' }),
  panel: (page: Page) => page.getByRole('complementary', { name: 'Customer' }),
  connection: (page: Page) => page.getByRole('status', { name: 'Connection' }),
  conversation: (page: Page, id: number) => agentPage.nav(page).getByRole('button', { name: new RegExp(`^Conversation #${id}(?!\\d)`) }),

  async login(page: Page, url: string, agent: { email: string; password: string }): Promise<void> {
    await page.goto(`${url}/agent`);
    await page.getByLabel('Email').fill(agent.email);
    await page.getByLabel('Password').fill(agent.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor({ state: 'visible' });
  },

  /** The conversation list's entry for `id`, clicked; resolves when its chat shows. */
  async open(page: Page, id: number): Promise<void> {
    await agentPage.conversation(page, id).click();
    await agentPage.log(page).waitFor({ state: 'visible' });
  },

  /** Types `text` into the composer and sends it with Enter. */
  async reply(page: Page, text: string): Promise<void> {
    const composer = agentPage.composer(page);
    await composer.fill(text);
    await composer.press('Enter');
  },
};

// ---- ops console (/ops) ----

export const opsPage = {
  async signIn(page: Page, url: string, token: string): Promise<void> {
    await page.goto(`${url}/ops`);
    await page.getByLabel('Admin token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sources' }).waitFor({ state: 'visible' });
  },

  /** The section under the heading `name` (Sources, Schedules, Sync runs, Dead letters). */
  section(page: Page, name: string): Locator {
    return headed(page.locator(':root'), name);
  },
};
