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

  it('reads a whole number by its digits with a text format (a NUMBER(8) date); without one, says which formats read numbers', () => {
    expect(refusal({ output: 'date', format: 'yyyyMMdd' }, 19900514)).toBe('accepted 1990-05-14');
    expect(refusal({ output: 'datetime', format: 'yyyyMMddHHmmss', timezone: 'Asia/Shanghai' }, 20221022054259)).toBe('accepted 2022-10-21T21:42:59.000Z');
    expect(refusal({ output: 'date', format: 'yyyyMMdd' }, 19901314)).toMatch(/^MAP_BAD_VALUE: cannot read 19901314 as a date \(format yyyyMMdd\)/);
    expect(refusal({ output: 'date', format: 'yyyyMMdd' }, 1990.5)).toBe('MAP_BAD_VALUE: 1990.5 is a number: give format: x (epoch milliseconds) or X (epoch seconds)');
    expect(refusal({ output: 'date' }, 19900514)).toBe('MAP_BAD_VALUE: 19900514 is a number: give format: x (epoch milliseconds) or X (epoch seconds), or a format its digits are written in (yyyyMMdd)');
  });
});
