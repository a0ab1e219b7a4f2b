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

  // luxon's fromISO takes a time alone, an hour, a year, a year and month; with a zone, the
  // date became the day of the sync ("09:00" → today 09:00 in Shanghai), never corrected.
  it.each([' 09:00', '09:00', '12', '123456', '2025-11', '2025', 'T10:00'])('refuses %j, which has no whole date, with a zone or without', (text) => {
    for (const rule of [{ output: 'datetime', timezone: 'Asia/Shanghai' }, { output: 'datetime' }, { output: 'date', timezone: 'Asia/Shanghai' }] as DateTimeRule[]) {
      expect(refusal(rule, text)).toBe(`MAP_BAD_VALUE: cannot read ${JSON.stringify(text)} as a ${rule.output} (ISO-8601): it does not start with a whole date (yyyy-MM-dd)`);
    }
  });

  it('accepts the whole-date forms of ISO-8601 and SQL text', () => {
    const shanghai: DateTimeRule = { output: 'datetime', timezone: 'Asia/Shanghai' };
    expect(refusal(shanghai, '20221022T054259')).toBe('accepted 2022-10-21T21:42:59.000Z');
    expect(refusal(shanghai, '2022-W42-6T05:42:59')).toBe('accepted 2022-10-21T21:42:59.000Z');
    expect(refusal(shanghai, '2022-295T05:42:59')).toBe('accepted 2022-10-21T21:42:59.000Z');
    expect(refusal({ output: 'date', timezone: 'Asia/Shanghai' }, '20221022')).toBe('accepted 2022-10-22');
  });

  // The load stage refuses a year of more than four digits: the record became a dead letter
  // there, its field's default never applied, while preview showed it mapped.
  it.each([
    [{ output: 'datetime', format: 'X' } as DateTimeRule, 1700000000123, 'is after the year 9999 (epoch milliseconds read as seconds? use format: x)'],
    [{ output: 'datetime', format: 'x' } as DateTimeRule, 1700000000123456, 'is after the year 9999 (epoch microseconds? divide them into milliseconds)'],
    [{ output: 'date', format: 'X' } as DateTimeRule, 1700000000123, 'is after the year 9999 (epoch milliseconds read as seconds? use format: x)'],
  ])('refuses a year past 9999 at the map stage: %o %j', (rule, value, message) => {
    expect(refusal(rule, value)).toBe(`MAP_BAD_VALUE: ${value} ${message}`);
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
