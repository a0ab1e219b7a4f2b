/**
 * The schedules listing without services (a hub that holds no ticks, runs or pauses): its
 * next run is when the scheduler really ticks, at a fixed now.
 */
import type pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listSchedules } from '../../jobs/schedules.js';
import { configYaml, testConfig } from './fixture.js';

/** A hub database with no rows in any table the listing reads. */
const emptyHub = { query: () => Promise.resolve({ rows: [] }) } as unknown as pg.Pool;

afterEach(() => {
  vi.useRealTimers();
});

describe('listSchedules', () => {
  it('shows the end of a daylight-saving gap as the next run when the gap swallows the next tick', async () => {
    const config = await testConfig(
      configYaml(`schedules:
  - { name: berlin-0230, sync: shop_pg.accounts, cron: "30 2 * * *", timezone: Europe/Berlin }
  - { name: berlin-0330, sync: shop_pg.accounts, cron: "30 3 * * *", timezone: Europe/Berlin }
  - { name: berlin-off, sync: shop_pg.accounts, cron: "30 2 * * *", timezone: Europe/Berlin, enabled: false }
`),
    );
    // Saturday noon before the last Sunday of March 2027: Berlin springs from 02:00 to 03:00 at 01:00 UTC.
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2027-03-27T12:00:00Z') });
    const views = await listSchedules({ config, pool: emptyHub });
    expect(views.map((v) => [v.name, v.nextRun])).toEqual([
      ['berlin-0230', '2027-03-28T01:00:00.000Z'], // 03:00 CEST, not node-cron's Monday 02:30
      ['berlin-0330', '2027-03-28T01:30:00.000Z'],
      ['berlin-off', null],
    ]);
  });
});
