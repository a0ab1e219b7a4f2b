/**
 * The ops console in a real browser against the ops server, the sync queue and a worker of
 * this file's own hub: the admin signs in with the token, clicks `Sync now` on a stream, and
 * the run it started shows up in `Sync runs` and reaches `succeeded`; a new order with a
 * status the mapping does not know is dead-lettered by that run and shows with its error;
 * after the mapping is fixed (version 2 maps ON_HOLD; the ops server is restarted to read it,
 * as a deploy would), `Replay dead letter <id>` loads it: the letter shows `replayed` and the
 * order is in the unified view. Screenshots of the console at both sizes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureShot, launchBrowser, screenshot, until, type Actor } from './browser.js';
import { opsPage, textUntil } from './pages.js';
import { webEnv, type WebEnv } from './web-env.js';
import { WEB_SOURCE, writeOrdersMapping } from './web-source.js';

const STREAM = `${WEB_SOURCE}.orders`;
const POISON = 'WO2003'; // status ON_HOLD: unknown to mapping version 1
const GOOD = 'WO2004';

let env: WebEnv;
let admin: Actor;

beforeAll(async () => {
  env = await webEnv('ops');
  admin = await launchBrowser('ops-admin');
});

afterAll(async () => {
  await admin?.close();
  await env?.close();
});

async function letters() {
  const res = await env.hub.pool.query<{ id: string; source_key: string; error_code: string; error_message: string; replayed_at: Date | null }>(
    'SELECT id, source_key, error_code, error_message, replayed_at FROM hub.dead_letter ORDER BY id',
  );
  return res.rows;
}

describe('ops console', () => {
  let letterId = 0;

  it('signs in, syncs a stream with Sync now, shows the run succeeded and its dead letter', async () => {
    const page = admin.page;
    try {
      await page.goto(`${env.ops.url}/ops`);
      await page.getByLabel('Admin token').waitFor();
      await screenshot(page, 'ops-login');
      // A wrong token is refused with an alert, and the console stays closed.
      await page.getByLabel('Admin token').fill('not-the-admin-token-000');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').waitFor();
      expect(await page.getByRole('heading', { name: 'Sources', exact: true }).count()).toBe(0);

      await opsPage.signIn(page, env.ops.url, env.adminToken);
      for (const h of ['Sources', 'Schedules', 'Sync runs', 'Dead letters']) await page.getByRole('heading', { name: h, exact: true, level: 2 }).waitFor();
      const board = page.getByRole('link', { name: 'Queue board' });
      expect(await board.getAttribute('href')).toMatch(/\/ops\/queues$/);
      for (const s of ['accounts', 'orders', 'tickets']) await page.getByRole('button', { name: `Sync now ${WEB_SOURCE}.${s}`, exact: true }).waitFor();
      await screenshot(page, 'ops-console');

      // New rows in the source: one good order, one whose status mapping version 1 does not know.
      await env.src.pool.query(
        `INSERT INTO shop.orders VALUES ($1, 'S1002', 'PAID', '20.00', '[]', now(), now()), ($2, 'S1002', 'ON_HOLD', '99.00', '[{"sku":"X","name":"Hold","qty":1,"unit_price":"99.00"}]', now(), now())`,
        [GOOD, POISON],
      );
      const runsBefore = await env.hub.pool.query<{ max: string | null }>('SELECT max(id) FROM hub.sync_run');
      await page.getByRole('button', { name: `Sync now ${STREAM}`, exact: true }).click();
      await textUntil(opsPage.section(page, 'Sources').getByRole('status'), new RegExp(STREAM.replace('.', '\\.')));

      // The run the click started, as PostgreSQL has it.
      const run = await until(
        async () => {
          const r = await env.hub.pool.query<{ id: string; status: string; trigger: string; records_failed: string }>(
            `SELECT id, status, trigger, records_failed FROM hub.sync_run WHERE id > $1 AND source = $2 AND stream = 'orders' ORDER BY id`,
            [runsBefore.rows[0]!.max ?? 0, WEB_SOURCE],
          );
          return r.rows[0]?.status === 'succeeded' ? r.rows[0] : undefined;
        },
        'the sync run succeeded in hub.sync_run',
        30_000,
      );
      expect(run).toMatchObject({ trigger: 'ops', records_failed: '1' });
      const runs = opsPage.section(page, 'Sync runs');
      const row = runs.getByRole('row').filter({ has: page.getByRole('cell', { name: `#${run.id}`, exact: true }) });
      await textUntil(row, /succeeded/);
      expect(await row.textContent()).toContain(STREAM);
      await screenshot(page, 'ops-sync-runs');

      // The dead letter with its error.
      const [letter] = await letters();
      expect(letter).toMatchObject({ source_key: POISON, error_code: 'MAP_BAD_VALUE', replayed_at: null });
      letterId = Number(letter!.id);
      const dead = opsPage.section(page, 'Dead letters');
      const replay = dead.getByRole('button', { name: `Replay dead letter ${letterId}`, exact: true });
      await replay.waitFor();
      const letterRow = dead.getByRole('row').filter({ has: page.getByRole('button', { name: `Replay dead letter ${letterId}`, exact: true }) });
      const shown = await textUntil(letterRow, /MAP_BAD_VALUE/);
      expect(shown).toContain('ON_HOLD');
      await dead.getByRole('button', { name: 'Replay all shown' }).waitFor();
      await screenshot(page, 'ops-dead-letters');
      const loaded = await env.hub.pool.query('SELECT order_no FROM unified."order" WHERE order_no = ANY($1) ORDER BY order_no', [[GOOD, POISON]]);
      expect(loaded.rows).toEqual([{ order_no: GOOD }]);
      admin.errors.check();
    } catch (err) {
      await failureShot(admin);
      throw err;
    }
  }, 90_000);

  it('after the mapping is fixed, Replay dead letter loads it and shows it replayed', async () => {
    expect(letterId, 'the first test found the dead letter').toBeGreaterThan(0);
    const page = admin.page;
    try {
      writeOrdersMapping(env.dir, 2);
      await env.restartOps();
      const dead = opsPage.section(page, 'Dead letters');
      const replay = dead.getByRole('button', { name: `Replay dead letter ${letterId}`, exact: true });
      const row = dead.getByRole('row').filter({ has: page.getByRole('button', { name: `Replay dead letter ${letterId}`, exact: true }) });
      await replay.click();
      await textUntil(dead.getByRole('status'), /loaded|replayed/i);
      const [letter] = await until(async () => {
        const l = await letters();
        return l[0]?.replayed_at ? l : undefined;
      }, 'the letter is marked replayed in hub.dead_letter');
      expect(letter).toMatchObject({ source_key: POISON });
      const order = await env.hub.pool.query<{ status: string; customer_id: string }>('SELECT status, customer_id FROM unified."order" WHERE order_no = $1', [POISON]);
      const li = await env.hub.pool.query<{ customer_id: string }>(`SELECT customer_id FROM unified.customer_identity WHERE kind = 'shop_account' AND value = 'S1002'`);
      expect(order.rows).toEqual([{ status: 'pending', customer_id: li.rows[0]!.customer_id }]);

      // The console shows it replayed (its row stays, its Replay button disabled).
      const shownReplayed = await textUntil(row, /^(?![\s\S]*not replayed)[\s\S]*replayed/);
      expect(shownReplayed).not.toMatch(/not replayed/);
      expect(await replay.isDisabled()).toBe(true);
      await screenshot(page, 'ops-dead-letter-replayed');
      admin.errors.check();
    } catch (err) {
      await failureShot(admin);
      throw err;
    }
  }, 60_000);
});
