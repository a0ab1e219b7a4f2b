/** The memoizing zone answers exactly what luxon's IANA zone answers, transitions included. */
import { DateTime, IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { MemoZone } from '../../../pipelines/map/memo-zone.js';

describe('MemoZone', () => {
  it.each(['Asia/Shanghai', 'America/New_York', 'Australia/Lord_Howe'])(
    '%s: same offsets as luxon from 1890 to 2040 (LMT, DST, half-hour DST), densely around 2024',
    (name) => {
      const memo = new MemoZone(name);
      const iana = IANAZone.create(name);
      const instants: number[] = [];
      for (let ts = Date.UTC(1890, 0, 1); ts < Date.UTC(2040, 0, 1); ts += 5 * 86_400_000 + 7_777_777) instants.push(ts);
      for (let ts = Date.UTC(2024, 0, 1); ts < Date.UTC(2025, 0, 1); ts += 47 * 60_000 + 1234) instants.push(ts);
      let differences = 0;
      for (const ts of instants) {
        if (memo.offset(ts) !== iana.offset(ts)) differences += 1;
        // the second read comes from the cache
        if (memo.offset(ts) !== iana.offset(ts)) differences += 1;
      }
      expect(differences).toBe(0);
    },
  );

  it('converts wall clocks like the IANA zone, across a DST change', () => {
    const memo = new MemoZone('America/New_York');
    for (const local of ['2024-03-10T01:59:59', '2024-03-10T02:30:00', '2024-03-10T03:00:00', '2024-11-03T01:30:00', '2024-11-03T02:00:00', '1988-07-01T12:00:00']) {
      expect(DateTime.fromISO(local, { zone: memo }).toMillis(), local).toBe(DateTime.fromISO(local, { zone: 'America/New_York' }).toMillis());
    }
    expect(DateTime.fromISO('1988-07-01T12:00:00', { zone: new MemoZone('Asia/Shanghai') }).toISO()).toBe('1988-07-01T12:00:00.000+09:00');
  });
});
