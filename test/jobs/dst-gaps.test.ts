/**
 * Which ticks a daylight-saving gap swallows (node-cron never fires at wall-clock times that
 * do not happen), and the instant each runs at instead: the end of the gap, which is also the
 * next run shown when it comes before node-cron's. Expected instants are the zones' published
 * transitions for 2027.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextRuns } from '../../jobs/cron-matcher.js';
import { gapTicks, nextTick, repeatTicks, springForwards } from '../../jobs/dst-gaps.js';

const YEAR_2027 = [new Date('2027-01-01T00:00:00Z'), new Date('2028-01-01T00:00:00Z')] as const;
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('daylight-saving gaps', () => {
  it('finds each forward jump of a zone with the wall-clock span it skips, and none where clocks only go back or never move', () => {
    const [berlin] = springForwards('Europe/Berlin', ...YEAR_2027);
    expect(springForwards('Europe/Berlin', ...YEAR_2027)).toHaveLength(1);
    expect(berlin!.at.toISOString()).toBe('2027-03-28T01:00:00.000Z');
    expect([new Date(berlin!.wallFrom).toISOString(), new Date(berlin!.wallTo).toISOString()]).toEqual(['2027-03-28T02:00:00.000Z', '2027-03-28T03:00:00.000Z']);
    expect(springForwards('Asia/Shanghai', ...YEAR_2027)).toEqual([]);
    expect(springForwards('Europe/Berlin', new Date('2027-10-30T00:00:00Z'), new Date('2027-11-01T00:00:00Z'))).toEqual([]);
  });

  it.each([
    ['30 2 * * *', 'Europe/Berlin', ['2027-03-28T01:00:00.000Z']],
    ['0 2 * * *', 'America/New_York', ['2027-03-14T07:00:00.000Z']],
    ['*/20 2 * * *', 'Europe/Berlin', ['2027-03-28T01:00:00.000Z']],
    ['15 * * * *', 'Australia/Lord_Howe', ['2027-10-02T15:30:00.000Z']], // a 30-minute gap: 02:00 → 02:30
    ['10 2 * * * *', 'Europe/Berlin', ['2027-03-28T01:00:00.000Z']], // 6 fields: second 10 of every minute of 02:xx
    ['0 3 * * *', 'Europe/Berlin', []], // 03:00 happens
    ['30 2 * * 1', 'Europe/Berlin', []], // the gap is on a Sunday
    ['30 2 * * *', 'Asia/Shanghai', []],
  ])('%s in %s', (cron, zone, expected) => {
    expect(iso(gapTicks(cron, zone, ...YEAR_2027))).toEqual(expected);
  });

  it.each([
    // New York goes back at 06:00Z on 2027-11-07: 01:00-01:59 EDT (05:xxZ), then again as EST (06:xxZ).
    ['0 * * * *', 'America/New_York', ['2027-11-07T05:00:00.000Z', '2027-11-07T06:00:00.000Z']],
    ['*/20 * * * *', 'America/New_York', ['05:00', '05:20', '05:40', '06:00', '06:20', '06:40'].map((t) => `2027-11-07T${t}:00.000Z`)],
    ['15 */2 * * *', 'America/New_York', []], // even hours only: 01:15 is not one
    ['30 1 * * *', 'America/New_York', []], // fixed hours run once, as node-cron fires them
    ['0 * * * *', 'Europe/Berlin', ['2027-10-31T00:00:00.000Z', '2027-10-31T01:00:00.000Z']], // 02:00 CEST is 00:00Z, 02:00 CET 01:00Z
    ['30 * * * *', 'Australia/Lord_Howe', ['2027-04-03T14:30:00.000Z', '2027-04-03T15:00:00.000Z']], // 01:30 at +11, then at +10:30
    ['0 * * * *', 'Asia/Shanghai', []],
  ])('both passes of a repeated hour: %s in %s', (cron, zone, expected) => {
    expect(iso(repeatTicks(cron, zone, ...YEAR_2027))).toEqual(expected);
  });

  // East of UTC node-cron fires in the second pass, or in part of it: from 01:30 BST on
  // 2027-10-31 its next run of */20 is 01:40 GMT, an hour and ten minutes later.
  it.each([
    ['America/New_York', '2027-11-07T04:59:45Z', '2027-11-07T07:05:00Z', '2027-11-07T05:00:00Z'],
    ['Europe/Berlin', '2027-10-30T23:59:45Z', '2027-10-31T02:05:00Z', '2027-10-31T00:00:00Z'],
    ['Europe/London', '2027-10-30T23:59:45Z', '2027-10-31T02:05:00Z', '2027-10-31T00:00:00Z'],
    ['Australia/Sydney', '2027-04-03T14:59:45Z', '2027-04-03T17:05:00Z', '2027-04-03T15:00:00Z'],
  ])('finds every tick of both passes in %s when asked 30 s at a time, as the scheduler\'s sweep asks', (zone, from, to, first) => {
    const found: string[] = [];
    for (let t = Date.parse(from); t < Date.parse(to); t += 30_000) {
      found.push(...iso(repeatTicks('*/5 * * * *', zone, new Date(t), new Date(t + 30_000))));
    }
    expect(found).toEqual(Array.from({ length: 24 }, (_, i) => new Date(Date.parse(first) + i * 300_000).toISOString()));
  });

  it('node-cron alone misses the first pass east of UTC (what repeatTicks makes up for)', () => {
    vi.useFakeTimers({ now: new Date('2027-10-31T00:30:00Z'), toFake: ['Date'] });
    expect(iso(nextRuns('*/20 * * * *', 'Europe/London', 1))).toEqual(['2027-10-31T01:40:00.000Z']);
    expect(nextTick('*/20 * * * *', 'Europe/London')?.toISOString()).toBe('2027-10-31T00:40:00.000Z');
    vi.useRealTimers();
  });

  it('node-cron itself fires in the first pass of a repeated hour only (what repeatTicks makes up for)', () => {
    vi.useFakeTimers({ now: new Date('2027-11-07T04:30:00Z'), toFake: ['Date'] });
    expect(iso(nextRuns('0 * * * *', 'America/New_York', 3))).toEqual(['2027-11-07T05:00:00.000Z', '2027-11-07T07:00:00.000Z', '2027-11-07T08:00:00.000Z']);
    // schedules list shows the repeated tick as the next one after the first pass.
    vi.setSystemTime(new Date('2027-11-07T05:10:00Z'));
    expect(nextTick('0 * * * *', 'America/New_York')?.toISOString()).toBe('2027-11-07T06:00:00.000Z');
    // Already inside the second pass, the next of its ticks.
    vi.setSystemTime(new Date('2027-11-07T06:12:00Z'));
    expect(nextTick('*/5 * * * *', 'America/New_York')?.toISOString()).toBe('2027-11-07T06:15:00.000Z');
    vi.useRealTimers();
  });

  it('looks only inside the window it is given', () => {
    expect(gapTicks('30 2 * * *', 'Europe/Berlin', new Date('2027-03-28T01:00:00Z'), new Date('2027-03-29T00:00:00Z'))).toEqual([]);
    expect(iso(gapTicks('30 2 * * *', 'Europe/Berlin', new Date('2027-03-28T00:59:59Z'), new Date('2027-03-28T01:00:30Z')))).toEqual(['2027-03-28T01:00:00.000Z']);
  });
});

describe('the next tick, at a fixed now', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    // cron, zone, now, the scheduler's next tick, node-cron's next run
    ['30 2 * * *', 'Europe/Berlin', '2027-03-27T12:00:00Z', '2027-03-28T01:00:00.000Z', '2027-03-29T00:30:00.000Z'], // the day before: 03:00 CEST on the Sunday
    ['*/20 2 * * *', 'Europe/Berlin', '2027-03-28T00:30:00Z', '2027-03-28T01:00:00.000Z', '2027-03-29T00:00:00.000Z'],
    ['10 30 2 * * *', 'Europe/Berlin', '2027-03-27T12:00:00Z', '2027-03-28T01:00:00.000Z', '2027-03-29T00:30:10.000Z'], // 6 fields: 02:30:10
    ['0 2 * * *', 'America/New_York', '2027-03-13T12:00:00Z', '2027-03-14T07:00:00.000Z', '2027-03-15T06:00:00.000Z'],
    ['30 2 * * *', 'Europe/Berlin', '2027-03-28T01:00:30Z', '2027-03-29T00:30:00.000Z', '2027-03-29T00:30:00.000Z'], // the gap is over
    ['0 3 * * *', 'Europe/Berlin', '2027-03-27T12:00:00Z', '2027-03-28T01:00:00.000Z', '2027-03-28T01:00:00.000Z'], // 03:00 happens
    ['30 2 * * 1', 'Europe/Berlin', '2027-03-27T12:00:00Z', '2027-03-29T00:30:00.000Z', '2027-03-29T00:30:00.000Z'], // the gap is on a Sunday
    ['30 2 * * *', 'Asia/Shanghai', '2027-03-27T12:00:00Z', '2027-03-27T18:30:00.000Z', '2027-03-27T18:30:00.000Z'],
  ])('%s in %s at %s: %s (node-cron: %s)', (cron, zone, now, expected, nodeCron) => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date(now) });
    expect(nextRuns(cron, zone)[0]?.toISOString()).toBe(nodeCron);
    expect(nextTick(cron, zone)?.toISOString()).toBe(expected);
  });
});
