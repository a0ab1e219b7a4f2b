/**
 * What a datetime field says about a value it cannot take: text that is no date at all is
 * "cannot read", a real date and time written without an offset asks for `timezone:`.
 */
import { describe, expect, it } from 'vitest';
import { compileDateTime, type DateTimeRule } from '../../../pipelines/map/datetime.js';

function refusal(rule: DateTimeRule, value: unknown): string {
  try {
    return `accepted ${compileDateTime(rule)(value)}`;
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
}

describe('datetime refusals name the real problem', () => {
  it.each([
    [{ output: 'datetime' } as DateTimeRule, 'notadate', /^MAP_BAD_VALUE: cannot read "notadate" as a datetime \(ISO-8601\)/],
    [{ output: 'datetime' } as DateTimeRule, '2022-10-22 05:42:59', /^MAP_BAD_VALUE: "2022-10-22 05:42:59" has no UTC offset: declare timezone: on the field$/],
    [{ output: 'datetime', format: 'yyyy-MM-dd HH:mm:ss' } as DateTimeRule, 'notadate', /^MAP_BAD_VALUE: cannot read "notadate" as a datetime \(format yyyy-MM-dd HH:mm:ss\)/],
    [{ output: 'datetime', format: 'yyyy-MM-dd HH:mm:ss' } as DateTimeRule, '2022-10-22 05:42:59', /has no UTC offset: declare timezone: on the field$/],
    [{ output: 'date' } as DateTimeRule, 'notadate', /^MAP_BAD_VALUE: cannot read "notadate" as a date/],
  ])('%o with %j', (rule, value, expected) => {
    expect(refusal(rule, value)).toMatch(expected);
  });

  it('still accepts what it accepted', () => {
    expect(refusal({ output: 'datetime' }, '2022-10-22T05:42:59+08:00')).toBe('accepted 2022-10-21T21:42:59.000Z');
    expect(refusal({ output: 'date' }, '2022-10-22')).toBe('accepted 2022-10-22');
    expect(refusal({ output: 'datetime', timezone: 'Asia/Shanghai' }, '2022-10-22 05:42:59')).toBe('accepted 2022-10-21T21:42:59.000Z');
  });
});
