/**
 * Which ticks a daylight-saving gap swallows (node-cron never fires at wall-clock times that
 * do not happen), and the instant each runs at instead: the end of the gap, which is also the
 * next run shown when it comes before node-cron's. Expected instants are the zones' published
 * transitions for 2027.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextRuns } from '../../jobs/cron-matcher.js';
import { gapTicks, nextTick, springForwards } from '../../jobs/dst-gaps.js';

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
