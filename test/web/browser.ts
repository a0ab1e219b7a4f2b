/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser): one headless
 * browser per actor (shopper, agent, admin), each with a fresh user data dir removed after,
 * so no actor shares cookies or storage with another; screenshots at the two sizes the pages
 * must work at; and a collector that fails the test on uncaught page errors, CSP violations
 * and unexpected console errors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Locator, type Page } from 'playwright-core';
import YAML from 'yaml';
import { PROJECT_ROOT } from '../../config/env.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'];
export const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');
export const SCREENSHOTS = path.join(ARTIFACTS, 'screenshots');

export const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
] as const;

export interface Actor {
  /** What the actor is called in artifacts (shopper, agent, admin). */
  name: string;
  context: BrowserContext;
  page: Page;
  errors: PageErrors;
  /** Closes the browser and removes its user data dir. */
  close(): Promise<void>;
}

export interface ActorOptions {
  /** navigator.language and Accept-Language. @defaultValue 'en-US' */
  locale?: string;
  /** @defaultValue 1280×800 */
  viewport?: { width: number; height: number };
  /** Console errors that are expected (a refused connection while the network is cut). */
  allowConsole?: RegExp[];
}

/**
 * Console errors the browser itself prints for a failed request (a 401 of a wrong password,
 * a refused connection): what the page does about them is what the tests check.
 */
const NETWORK_NOISE = [/^Failed to load resource:/, /net::ERR_/];

/** A browser of its own for one actor: `chromium.launchPersistentContext` on a fresh temp dir. */
export async function launchBrowser(name: string, options: ActorOptions = {}): Promise<Actor> {
  // A failure screenshot of an earlier run must not pass for this one's.
  fs.rmSync(failurePath(name), { force: true });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), `junction-web-${name}-`));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      locale: options.locale ?? 'en-US',
      viewport: options.viewport ?? SIZES[0],
      timezoneId: 'Asia/Shanghai',
    });
  } catch (err) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(15_000);
  const errors = collectErrors(name, options.allowConsole ?? []);
  // Every page of the actor (a second tab too) is watched from its first script on.
  await context.addInitScript(reportCspViolations);
  context.on('page', (p) => errors.watch(p));
  for (const p of context.pages()) errors.watch(p);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    name,
    context,
    page,
    errors,
    close: async () => {
      await context.close().catch(() => undefined);
      errors.save();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface PageErrors {
  /** Every console line and page error seen, in order (saved to test-artifacts/console/). */
  readonly log: string[];
  /** Uncaught errors, CSP violations and console errors not allowed: the test fails on any. */
  readonly fatal: string[];
  /** Listens to a page's uncaught errors and console. */
  watch(page: Page): void;
  /** Adds console patterns that are expected from now on. */
  allow(...patterns: RegExp[]): void;
  /** Throws listing the fatal ones, if any. */
  check(): void;
  save(): void;
}

/** In the page: CSP violations the browser does not print are reported on the console too. */
function reportCspViolations(): void {
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(`Content Security Policy violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
  });
}

/** Collects uncaught errors, console errors and CSP violations of an actor's pages. */
export function collectErrors(name: string, allowed: RegExp[]): PageErrors {
  const log: string[] = [];
  const fatal: string[] = [];
  const allow = [...NETWORK_NOISE, ...allowed];
  const at = () => new Date().toISOString().slice(11, 23);
  return {
    log,
    fatal,
    watch: (page) => {
      page.on('pageerror', (err) => {
        const line = `pageerror ${err.name}: ${err.message} (${page.url()})`;
        log.push(`${at()} ${line}`);
        fatal.push(line);
      });
      page.on('console', (msg: ConsoleMessage) => {
        const text = msg.text();
        const loc = msg.location();
        log.push(`${at()} console.${msg.type()} ${text}${loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
        if (/Content Security Policy|Content-Security-Policy/i.test(text)) {
          fatal.push(`CSP violation: ${text} (${page.url()})`);
          return;
        }
        if (msg.type() === 'error' && !allow.some((re) => re.test(text))) fatal.push(`console.error: ${text} (${page.url()})`);
      });
    },
    allow: (...patterns) => allow.push(...patterns),
    check: () => {
      if (fatal.length > 0) throw new Error(`${name}'s pages had errors:\n${fatal.join('\n')}`);
    },
    save: () => {
      const dir = path.join(ARTIFACTS, 'console');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${name}.log`), log.join('\n') + '\n');
    },
  };
}

/** Two animation frames and the fonts: the layout after a resize has settled. */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        void document.fonts.ready.then(() => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
      }),
  );
}

/**
 * Full-page screenshots at 1280×800 and 390×844 (or the sizes given):
 * `test-artifacts/screenshots/<name>-1280x800.png` and `…-390x844.png`; the viewport is put
 * back afterwards. Returns the paths.
 */
export async function screenshot(page: Page, name: string, sizes: readonly { width: number; height: number }[] = SIZES): Promise<string[]> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const before = page.viewportSize();
  const paths: string[] = [];
  try {
    for (const size of sizes) {
      await page.setViewportSize(size);
      await settle(page);
      const file = path.join(SCREENSHOTS, `${name}-${size.width}x${size.height}.png`);
      await page.screenshot({ path: file, fullPage: true });
      paths.push(file);
    }
  } finally {
    if (before) {
      await page.setViewportSize(before);
      await settle(page);
    }
  }
  return paths;
}

const failurePath = (name: string) => path.join(SCREENSHOTS, `FAILED-${name}.png`);

/** A screenshot of the actor's page as it is now, for a failure report: `FAILED-<actor>.png`. */
export async function failureShot(actor: Actor | undefined): Promise<string | undefined> {
  if (!actor) return undefined;
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = failurePath(actor.name);
  await actor.page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
  return file;
}

/**
 * The role and name of the element an ARIA snapshot starts with: the snapshot is YAML whose
 * first item is `button "Send"`, or a key (`'button "Conversation #1: Li Lei"': text`) when
 * the element has children.
 */
function roleLine(snapshot: string): string {
  const doc: unknown = YAML.parse(snapshot);
  const first: unknown = Array.isArray(doc) ? doc[0] : undefined;
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object') return Object.keys(first)[0] ?? '';
  return '';
}

export interface UnnamedControl {
  /** The role line of its ARIA snapshot (`- button` with no name). */
  aria: string;
  /** The start of its HTML, to find it. */
  html: string;
}

/**
 * Every visible button, input, textarea and select of the page (inside open shadow roots
 * too) whose accessible name is empty, as computed by the browser's accessibility tree.
 */
export async function unnamedControls(page: Page, root: Locator = page.locator(':root')): Promise<{ checked: number; unnamed: UnnamedControl[] }> {
  const controls = root.locator('button, input:not([type=hidden]), textarea, select');
  const unnamed: UnnamedControl[] = [];
  let checked = 0;
  for (const control of await controls.all()) {
    if (!(await control.isVisible())) continue;
    checked++;
    const first = roleLine(await control.ariaSnapshot());
    // `button "Send"`, `textbox "Message"`, `combobox "Transfer to"`; no quoted part: no name.
    const name = /^[\w-]+ "((?:[^"\\]|\\.)*)"/.exec(first)?.[1] ?? '';
    if (name.trim() === '') {
      unnamed.push({ aria: first, html: (await control.evaluate((el) => el.outerHTML)).slice(0, 200) });
    }
  }
  return { checked, unnamed };
}

/**
 * Polls `check` until it returns a value (not undefined). Throws after `timeoutMs` naming
 * `what` and the last thing `describe` said about the state (what the page showed instead).
 */
export async function until<T>(check: () => Promise<T | undefined>, what = 'condition', timeoutMs = 15_000, describe?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      const state = describe ? await describe().catch((err: unknown) => `(could not describe: ${String(err)})`) : '';
      throw new Error(`${what}: not within ${timeoutMs} ms${state ? `; instead: ${state}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
