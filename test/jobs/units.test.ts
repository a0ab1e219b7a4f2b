/** The jobs helpers that need no services: credentials, cursor times, next runs, tick ids. */
import { describe, expect, it } from 'vitest';
import { presentedToken, tokenMatches } from '../../jobs/auth.js';
import { tickJobId } from '../../jobs/scheduler.js';
import { nextRuns } from '../../jobs/cron-matcher.js';
import { checkpointInstant } from '../../jobs/streams-status.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('admin credentials', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer   abc ', 'abc'],
    [`Basic ${b64('ops:s3cret:with:colons')}`, 's3cret:with:colons'],
    [`Basic ${b64(':tok')}`, 'tok'],
    [`Basic ${b64('no-colon')}`, undefined],
    ['Bearer', undefined],
    ['Digest abc', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j presents %j', (header, token) => {
    expect(presentedToken(header)).toBe(token);
  });

  it('compares tokens of any length', () => {
    expect(tokenMatches('same-token', 'same-token')).toBe(true);
    expect(tokenMatches('same-token', 'same-tokeN')).toBe(false);
    expect(tokenMatches('short', 'a-much-longer-token')).toBe(false);
  });
});

describe('checkpointInstant', () => {
  it.each([
    ['ISO with Z', '2026-01-01T00:00:00.000Z', undefined, '2026-01-01T00:00:00.000Z'],
    ['ISO with offset', '2025-12-31T23:14:29+08:00', undefined, '2025-12-31T15:14:29.000Z'],
    ['wall clock without a format', '2025-12-31 23:59:59', undefined, null],
    ['an id', 10021, undefined, null],
    ['wall clock in the declared format and zone', '2025-12-31 23:59:59', { format: 'yyyy-MM-dd HH:mm:ss', timezone: 'Asia/Shanghai' }, '2025-12-31T15:59:59.000Z'],
    ['unix seconds', 1767225600, { format: 'unix' }, '2026-01-01T00:00:00.000Z'],
    ['iso format without offset, declared zone', '2026-01-01T08:00:00', { format: 'iso', timezone: 'Asia/Shanghai' }, '2026-01-01T00:00:00.000Z'],
    ['garbage in a declared format', 'soon', { format: 'yyyy-MM-dd HH:mm:ss', timezone: 'UTC' }, null],
  ])('%s', (_what, value, format, expected) => {
    expect(checkpointInstant(value, format)?.toISOString() ?? null).toBe(expected);
  });
});

describe('schedules', () => {
  it('computes next runs in the schedule time zone', () => {
    const [a, b] = nextRuns('0 3 * * *', 'Asia/Shanghai', 2);
    expect(a!.getUTCHours()).toBe(19);
    expect(b!.getTime() - a!.getTime()).toBe(86_400_000);
    expect(a!.getTime()).toBeGreaterThan(Date.now());
  });

  it('names a tick job schedule:<name>:<epoch ms>', () => {
    expect(tickJobId('nightly', new Date('2026-01-01T03:00:00Z'))).toBe('schedule:nightly:1767236400000');
  });
});
