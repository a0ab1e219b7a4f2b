/**
 * The mapping language's field helpers, one by one: each group is one field definition
 * (inline YAML) and a table of source values → mapped value, or the failure code.
 */
import { describe, expect, it } from 'vitest';
import { compileYaml, mappingYaml, mapOne } from './fixture.js';

const FAIL = (code: string) => ({ fail: code });
type Expected = unknown;

interface Group {
  name: string;
  target: string;
  /** The field's name and definition, as one YAML line under `fields:`. */
  field: string;
  /** [source value of `v`, expected mapped value or FAIL(code)]; `undefined` input: `v` absent. */
  cases: [unknown, Expected][];
}

const PHONE = '+8613800138000';

const groups: Group[] = [
  {
    name: 'trim (blank becomes missing)',
    target: 'customer',
    field: 'name: { from: v, trim: true }',
    cases: [['  张伟 ', '张伟'], ['   ', null], [null, null], [undefined, null], [12, '12']],
  },
  {
    name: 'a string field without trim keeps the text as is',
    target: 'customer',
    field: 'name: v',
    cases: [['  x ', '  x '], ['', ''], [true, 'true'], [{ a: 1 }, FAIL('MAP_BAD_VALUE')]],
  },
  {
    name: 'enum map with default (numbers match their text keys)',
    target: 'ticket',
    field: 'priority: { from: v, map: { "1": low, "2": normal, "3": urgent }, default: normal }',
    cases: [['1', 'low'], [3, 'urgent'], ['9', 'normal'], [null, 'normal'], [undefined, 'normal']],
  },
  {
    // YAML reads the plain key 01 as the number 1: the map would have expected "1".
    name: 'enum map keys are matched as written, quoted or not (01 is not 1, 1.50 is not 1.5)',
    target: 'ticket',
    field: 'priority: { from: v, map: { 01: low, 02: normal, 1.50: high, true: urgent } }',
    cases: [['01', 'low'], ['02', 'normal'], ['1', FAIL('MAP_BAD_VALUE')], ['1.50', 'high'], [1.5, FAIL('MAP_BAD_VALUE')], [true, 'urgent'], ['true', 'urgent']],
  },
  {
    // The default is a unified value (ISO-8601), not one in the source's format.
    name: 'a datetime default is ISO-8601 whatever the format the source is read with',
    target: 'customer',
    field: 'created_at: { from: v, format: "dd.MM.yyyy HH:mm", timezone: Asia/Shanghai, default: "2000-01-01T00:00:00Z" }',
    cases: [['23.11.2024 13:37', '2024-11-23T05:37:00.000Z'], [null, '2000-01-01T00:00:00.000Z'], ['2024-11-23', '2000-01-01T00:00:00.000Z']],
  },
  {
    name: 'enum map without default: an unmapped value fails the record',
    target: 'ticket',
    field: 'status: { from: v, map: { "0": open, "3": closed } }',
    cases: [['0', 'open'], ['7', FAIL('MAP_BAD_VALUE')], [null, null], [[1], FAIL('MAP_BAD_VALUE')]],
  },
  {
    name: 'enum field without map: the value must be one of the allowed ones',
    target: 'order',
    field: 'status: v',
    cases: [['paid', 'paid'], ['PAID', FAIL('MAP_BAD_VALUE')]],
  },
  {
    name: 'parse: number into a decimal keeps the digits as written',
    target: 'order',
    field: 'total_amount: { from: v, parse: number }',
    cases: [
      ['12.50', '12.50'],
      ['1,299.00', '1299.00'],
      [' +7.5 ', '7.5'],
      ['007.50', '7.50'],
      ['-0.00', '0.00'],
      ['-3', '-3'],
      [12.5, '12.5'],
      ['', null],
      ['12,50', FAIL('MAP_BAD_VALUE')],
      ['1.299,00', FAIL('MAP_BAD_VALUE')],
      ['¥12', FAIL('MAP_BAD_VALUE')],
      ['1e3', FAIL('MAP_BAD_VALUE')],
    ],
  },
  {
    name: 'a decimal without parse takes numbers and plain decimal text only',
    target: 'order',
    field: 'total_amount: v',
    cases: [['12.50', '12.50'], [3, '3'], ['1,299.00', FAIL('MAP_BAD_VALUE')], [1e21, FAIL('MAP_BAD_VALUE')]],
  },
  {
    name: 'parse: number into an integer (attribute)',
    target: 'customer',
    field: 'points: { from: v, parse: number }',
    cases: [['42', 42], ['1,200', 1200], ['12.00', 12], [7, 7], ['12.5', FAIL('MAP_BAD_VALUE')], ['99999999999999999', FAIL('MAP_BAD_VALUE')]],
  },
  {
    name: 'an integer without parse refuses text',
    target: 'customer',
    field: 'points: v',
    cases: [[42, 42], ['42', FAIL('MAP_BAD_VALUE')], [4.2, FAIL('MAP_BAD_VALUE')]],
  },
  {
    name: 'parse: boolean',
    target: 'customer',
    field: 'newsletter: { from: v, parse: boolean }',
    cases: [['Y', true], ['no', false], [1, true], ['0', false], [true, true], ['maybe', FAIL('MAP_BAD_VALUE')]],
  },
  {
    name: 'default replaces a missing value and, with null, tolerates bad ones',
    target: 'order',
    field: 'contact_phone: { from: v, default: null }',
    cases: [['138-0013-8000', PHONE], ['n/a', null], [undefined, null]],
  },
  {
    name: 'a constant (default only)',
    target: 'order',
    field: 'currency: { default: CNY }',
    cases: [['USD', 'CNY'], [undefined, 'CNY']],
  },
  {
    name: 'phone fields: every way the estate writes a number, to E.164',
    target: 'customer',
    field: 'phone: v',
    cases: [
      ['+86 138 0013 8000', PHONE],
      ['13800138000', PHONE],
      ['0086-138-0013-8000', PHONE],
      ['138-0013-8000', PHONE],
      [' 138 0013 8000 ', PHONE],
      ['+8613800138000', PHONE],
      [13800138000, PHONE],
      ['', null],
      ['12345', FAIL('MAP_BAD_VALUE')],
      ['12345678901', FAIL('MAP_BAD_VALUE')],
    ],
  },
  {
    name: 'email fields: case, spaces and full-width characters',
    target: 'customer',
    field: 'email: v',
    cases: [
      [' Zhang.Wei@Example.COM ', 'zhang.wei@example.com'],
      ['ZHANG@QQ.COM', 'zhang@qq.com'],
      ['ｚｈａｎｇ＠ｑｑ．ｃｏｍ', 'zhang@qq.com'],
      ['not-an-email', FAIL('MAP_BAD_VALUE')],
      ['a b@qq.com', FAIL('MAP_BAD_VALUE')],
    ],
  },
  {
    name: 'normalize: phone into a string field',
    target: 'customer',
    field: 'nickname: { from: v, normalize: phone }',
    cases: [['0086-138-0013-8000', PHONE], ['x', FAIL('MAP_BAD_VALUE')]],
  },
  {
    name: 'datetimes with an offset: to a UTC instant, to the millisecond',
    target: 'customer',
    field: 'updated_at: v',
    cases: [
      ['2025-11-15T00:43:12+08:00', '2025-11-14T16:43:12.000Z'],
      ['2022-09-18T22:02:35.197123Z', '2022-09-18T22:02:35.197Z'],
      ['2025-11-15T00:43:12-05:30', '2025-11-15T06:13:12.000Z'],
      ['2025-11-15T00:43+0800', '2025-11-14T16:43:00.000Z'],
      ['2025-11-15 00:43:12 +08:00', '2025-11-14T16:43:12.000Z'],
      ['2022-02-30T00:00:00Z', FAIL('MAP_BAD_VALUE')],
      // ISO-8601's end-of-day 24:00 is midnight of the next day (luxon reads it)
      ['2022-09-18T24:00:00Z', '2022-09-19T00:00:00.000Z'],
      ['yesterday', FAIL('MAP_BAD_VALUE')],
      // no offset and no timezone: refused rather than guessed
      ['2022-10-22 05:42:59', FAIL('MAP_BAD_VALUE')],
      [1700000000000, FAIL('MAP_BAD_VALUE')],
    ],
  },
  {
    name: 'datetimes without an offset are read in the field timezone; an offset still wins',
    target: 'customer',
    field: 'updated_at: { from: v, parse: datetime, timezone: Asia/Shanghai }',
    cases: [
      ['2022-10-22 05:42:59', '2022-10-21T21:42:59.000Z'],
      ['2022-10-22T05:42:59', '2022-10-21T21:42:59.000Z'],
      ['2022-10-22', '2022-10-21T16:00:00.000Z'],
      ['2022-10-22T05:42:59Z', '2022-10-22T05:42:59.000Z'],
    ],
  },
  {
    name: 'format and timezone (the ticket system)',
    target: 'customer',
    field: 'updated_at: { from: v, parse: datetime, format: "yyyy-MM-dd HH:mm:ss", timezone: Asia/Shanghai }',
    cases: [
      ['2022-10-22 05:42:59', '2022-10-21T21:42:59.000Z'],
      [' 2022-10-22 05:42:59 ', '2022-10-21T21:42:59.000Z'],
      ['2022/10/22 05:42:59', FAIL('MAP_BAD_VALUE')],
      ['2022-02-30 05:42:59', FAIL('MAP_BAD_VALUE')],
    ],
  },
  {
    name: 'a zone with daylight saving time',
    target: 'customer',
    field: 'updated_at: { from: v, format: "yyyy-MM-dd HH:mm:ss", timezone: America/New_York }',
    cases: [
      ['2024-07-01 12:00:00', '2024-07-01T16:00:00.000Z'],
      ['2024-01-01 12:00:00', '2024-01-01T17:00:00.000Z'],
      // 02:30 does not exist on 10 March 2024 there: luxon moves it forward an hour
      ['2024-03-10 02:30:00', '2024-03-10T07:30:00.000Z'],
    ],
  },
  {
    name: 'a format with its own offset needs no timezone',
    target: 'customer',
    field: 'updated_at: { from: v, format: "dd.MM.yyyy HH:mm ZZ" }',
    cases: [['22.10.2022 05:42 +08:00', '2022-10-21T21:42:00.000Z']],
  },
  {
    name: 'epoch milliseconds (format: x) and seconds (format: X)',
    target: 'customer',
    field: 'created_at: { from: v, format: x }',
    cases: [[1700000000123, '2023-11-14T22:13:20.123Z'], ['1700000000123', '2023-11-14T22:13:20.123Z'], ['soon', FAIL('MAP_BAD_VALUE')]],
  },
  {
    name: 'epoch seconds',
    target: 'customer',
    field: 'created_at: { from: v, format: X }',
    cases: [[1700000000, '2023-11-14T22:13:20.000Z']],
  },
  {
    name: 'date fields',
    target: 'customer',
    field: 'birthday: v',
    cases: [['1990-05-17', '1990-05-17'], ['1990-05-17T23:30:00+08:00', '1990-05-17'], ['1990-13-01', FAIL('MAP_BAD_VALUE')]],
  },
  {
    // The field's zone decides which day an instant falls on; a plain date stays as written.
    name: 'date fields with a timezone take the date of an instant in that zone',
    target: 'customer',
    field: 'birthday: { from: v, timezone: Asia/Shanghai }',
    // 2024: China kept daylight saving time from 1986 to 1991, so 1990 dates would be UTC+9.
    cases: [['2024-05-17T23:30:00Z', '2024-05-18'], ['2024-05-17T23:30:00+08:00', '2024-05-17'], ['2024-05-17', '2024-05-17'], ['2024-05-17 23:30:00', '2024-05-17']],
  },
  {
    // PostgreSQL has no year 0: such a value would fail its whole batch at load.
    name: 'times before the year 1 (legacy "no date" placeholders) fail the record, or take the default',
    target: 'customer',
    field: 'created_at: { from: v, parse: datetime, default: null }',
    cases: [['0000-01-01T00:00:00Z', null], ['0000-06-01 00:00:00+00:00', null], ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z']],
  },
  {
    name: 'date fields before the year 1 fail the record',
    target: 'customer',
    field: 'birthday: v',
    cases: [['0000-01-01', FAIL('MAP_BAD_VALUE')], ['0001-01-01', '0001-01-01']],
  },
  {
    name: 'date fields with a format',
    target: 'customer',
    field: 'birthday: { from: v, format: "yyyy年M月d日" }',
    cases: [['1990年5月17日', '1990-05-17']],
  },
  {
    name: 'json fields take any JSON; parse: json reads text',
    target: 'order',
    field: 'lines: { from: v, parse: json }',
    cases: [['[{"sku":"A","qty":1}]', [{ sku: 'A', qty: 1 }]], [[1, 2], [1, 2]], ['{oops', FAIL('MAP_BAD_VALUE')]],
  },
];

describe('field helpers', () => {
  describe.each(groups)('$name', ({ target, field, cases }) => {
    it.each(cases.map(([input, expected]) => ({ input, expected, label: JSON.stringify(input) ?? 'absent' })))(
      '$label',
      async ({ input, expected }) => {
        const m = await compileYaml(mappingYaml(target, field));
        const name = field.slice(0, field.indexOf(':'));
        const outcome = await mapOne(m, input === undefined ? { id: '1' } : { id: '1', v: input as never });
        if (expected !== null && typeof expected === 'object' && 'fail' in expected) {
          expect(outcome.ok ? outcome.record.fields : outcome.failure.code).toBe((expected as { fail: string }).fail);
          if (!outcome.ok) expect(outcome.failure.message).toContain(`fields.${name}`);
        } else {
          expect(outcome.ok ? outcome.record.fields[name] : outcome.failure.message).toEqual(expected);
        }
      },
    );
  });
});
