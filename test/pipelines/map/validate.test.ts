/**
 * Load-time validation of mapping files: each case is a whole mapping (inline YAML) and the
 * exact `file:line:col CODE` of every error `loadConfig` reports for it, all at once.
 */
import { describe, expect, it } from 'vitest';
import { mappingErrors, yaml } from './fixture.js';

/** Points just past the end of the line (an expression that ends too early). */
const END = Symbol('end of line');

/** `m.yaml:line:col CODE` where the `nth` `token` starts on `line` (1-based) of `text`. */
function at(text: string, line: number, token: string | typeof END, code: string, nth = 1): string {
  const content = text.split('\n')[line - 1] ?? '';
  if (token === END) return `m.yaml:${line}:${content.length + 1} ${code}`;
  let col = -1;
  for (let i = 0; i < nth; i++) col = content.indexOf(token, col + 1);
  if (col === -1) throw new Error(`${JSON.stringify(token)} not on line ${line}: ${content}`);
  return `m.yaml:${line}:${col + 1} ${code}`;
}

const HEAD = (target: string) => `version: 1\nsource: shop\nstream: accounts\ntarget: ${target}\nkey: id\n`;

interface Case {
  name: string;
  mapping: string;
  /** Expected errors, built with {@link at} against `mapping`. */
  expected: (m: string) => string[];
}

const cases: Case[] = [
  {
    name: 'a field the target does not have',
    mapping: `${HEAD('order')}fields:\n  order_no: id\n  crm_id: customerNo\n`,
    expected: (m) => [at(m, 8, 'crm_id', 'MAP_UNKNOWN_FIELD')],
  },
  {
    // Names every object inherits are not fields either (they once passed, then crashed the compile).
    name: 'a field named like an inherited property',
    mapping: `${HEAD('order')}fields:\n  order_no: id\n  constructor: customerNo\n`,
    expected: (m) => [at(m, 8, 'constructor', 'MAP_UNKNOWN_FIELD')],
  },
  {
    name: 'normalize: phone on a datetime field',
    mapping: `${HEAD('customer')}fields:\n  updated_at: { from: v, normalize: phone }\n`,
    expected: (m) => [at(m, 7, 'phone', 'MAP_TYPE_MISMATCH')],
  },
  {
    name: 'parse: datetime on a decimal field',
    mapping: `${HEAD('order')}fields:\n  total_amount: { from: v, parse: datetime }\n`,
    expected: (m) => [at(m, 7, 'datetime', 'MAP_TYPE_MISMATCH')],
  },
  {
    name: 'format and timezone on a string field',
    mapping: `${HEAD('customer')}fields:\n  name: { from: v, format: yyyy, timezone: UTC }\n`,
    expected: (m) => [at(m, 7, 'yyyy', 'MAP_TYPE_MISMATCH'), at(m, 7, 'UTC', 'MAP_TYPE_MISMATCH')],
  },
  {
    name: 'a default of the wrong type',
    mapping: `${HEAD('order')}fields:\n  total_amount: { from: v, parse: number, default: lots }\n`,
    expected: (m) => [at(m, 7, 'lots', 'MAP_TYPE_MISMATCH')],
  },
  {
    name: 'enum map outputs and a default outside the allowed values',
    mapping: yaml(`
      ${HEAD('ticket').replaceAll('\n', '\n      ')}fields:
        status:
          from: v
          map:
            "0": open
            "1": in_progress
            "3": closed
        priority: { from: p, map: { "1": low }, default: highest }
    `),
    expected: (m) => [at(m, 11, 'in_progress', 'MAP_BAD_ENUM'), at(m, 13, 'highest', 'MAP_BAD_ENUM')],
  },
  {
    name: 'a datetime format without zone and no timezone',
    mapping: `${HEAD('ticket')}fields:\n  created_at: { from: c, format: "yyyy-MM-dd HH:mm:ss" }\n`,
    expected: (m) => [at(m, 7, '"yyyy', 'MAP_MISSING_TIMEZONE')],
  },
  {
    // Each of these would have read every record without an error, and wrongly.
    name: 'datetime formats that lose a part of what they read (mm for months, hh without a, no day) or use moment.js tokens',
    mapping:
      `${HEAD('customer')}fields:\n` +
      `  birthday: { from: b, format: yyyy-mm-dd }\n` +
      `  created_at: { from: c, format: "yyyy-MM-dd hh:mm", timezone: Asia/Shanghai }\n` +
      `  updated_at: { from: u, format: YYYY-MM-DD, timezone: UTC }\n`,
    expected: (m) => [at(m, 7, 'yyyy', 'MAP_BAD_FORMAT'), at(m, 8, '"yyyy', 'MAP_BAD_FORMAT'), at(m, 9, 'YYYY', 'MAP_BAD_FORMAT')],
  },
  {
    name: 'a date format without a day',
    mapping: `${HEAD('customer')}fields:\n  birthday: { from: b, format: yyyy-MM }\n`,
    expected: (m) => [at(m, 7, 'yyyy', 'MAP_BAD_FORMAT')],
  },
  {
    name: 'datetime formats that read what they describe (12-hour with a, two-digit years, CJK literals, epoch)',
    mapping:
      `${HEAD('customer')}fields:\n` +
      `  birthday: { from: b, format: "yyyy年M月d日" }\n` +
      `  created_at: { from: c, format: "dd/MM/yy hh:mm a", timezone: Asia/Shanghai }\n` +
      `  updated_at: { from: u, format: X }\n`,
    expected: () => [],
  },
  {
    name: 'an unknown source and an unknown stream',
    mapping: `version: 1\nsource: crm\nstream: accounts\ntarget: customer\nkey: id\nfields:\n  name: n\n`,
    expected: (m) => [at(m, 2, 'crm', 'MAP_UNKNOWN_SOURCE')],
  },
  {
    name: 'an unknown stream',
    mapping: `version: 1\nsource: shop\nstream: orders\ntarget: customer\nkey: id\nfields:\n  name: n\n`,
    expected: (m) => [at(m, 3, 'orders', 'MAP_UNKNOWN_SOURCE')],
  },
  {
    name: 'an identity kind that is not declared',
    mapping: `${HEAD('customer')}identity:\n  - { kind: email, value: email }\n  - { kind: unionid, value: u }\nfields:\n  name: n\n`,
    expected: (m) => [at(m, 8, 'unionid', 'MAP_UNKNOWN_IDENTITY')],
  },
  {
    // JSONata gives the token's value (13, def, lowercase), not its text ("def", $lowercase).
    name: 'JSONata syntax errors point at the start of a number, a string or a variable, in a block scalar too',
    mapping: [
      HEAD('customer') + 'fields:',
      '  name: "a + 12 13"',
      `  nickname: 'x & "abc" "def"'`,
      '  city: "$uppercase(x) $lowercase(y)"',
      '  province: |',
      '    $a +',
      '      (1 2.50)',
      '  address: a = true false',
      '',
    ].join('\n'),
    expected: (m) => [
      at(m, 7, '13', 'MAP_EXPR_SYNTAX'),
      at(m, 8, '"def"', 'MAP_EXPR_SYNTAX'),
      at(m, 9, '$lowercase', 'MAP_EXPR_SYNTAX'),
      at(m, 12, '2.50', 'MAP_EXPR_SYNTAX'),
      at(m, 13, 'false', 'MAP_EXPR_SYNTAX'),
    ],
  },
  {
    name: 'JSONata syntax errors point inside the expression (plain, quoted, block, key, identity)',
    mapping: [
      'version: 1',
      'source: shop',
      'stream: accounts',
      'target: order',
      'key: $string(id',
      'identity:',
      '  - { kind: phone, value: "$trim(phone) &" }',
      'fields:',
      '  order_no: a ++ b',
      "  status: '$lowercase(s'",
      '  lines: |',
      '    [lines.line.{',
      "      'sku': sku,",
      "      'qty': qty qty",
      '    }]',
      '  currency: { from: "a b" }',
      '',
    ].join('\n'),
    expected: (m) => [
      at(m, 5, END, 'MAP_EXPR_SYNTAX'),
      // just past the expression's end: on its closing quote
      at(m, 7, '"', 'MAP_EXPR_SYNTAX', 2),
      at(m, 9, '+', 'MAP_EXPR_SYNTAX', 2),
      at(m, 10, "'", 'MAP_EXPR_SYNTAX', 2),
      at(m, 14, 'qty', 'MAP_EXPR_SYNTAX', 3),
      at(m, 16, 'a b', 'MAP_EXPR_SYNTAX'),
    ],
  },
  {
    // Each decoded character is one source character or more: an error points at its escape's start.
    name: 'JSONata syntax errors point exactly past escapes and folds in quoted scalars',
    mapping: [
      HEAD('customer') + 'fields:',
      '  name: "\\u0041 + )"',
      '  nickname: { expr: "$x\\t+ )" }',
      "  city: '''a'' & )'",
      "  province: '$f(''a'''",
      '  address: "\\U0001F600 + )"',
      '  email: "\\u0041 &',
      '    b c"',
      '  phone: "a &\\',
      '    b c"',
      '  vip_level: "\\"x\\" &\\tb c"',
      '',
    ].join('\n'),
    expected: (m) => [
      at(m, 7, ')', 'MAP_EXPR_SYNTAX'),
      at(m, 8, ')', 'MAP_EXPR_SYNTAX'),
      at(m, 9, ')', 'MAP_EXPR_SYNTAX'),
      // just past the expression's end: the closing quote, not the second quote of the last ''
      at(m, 10, "'", 'MAP_EXPR_SYNTAX', 6),
      // \U0001F600 is two UTF-16 units of the expression
      at(m, 11, ')', 'MAP_EXPR_SYNTAX'),
      // the line break folds to a space; escaped, it joins the lines
      at(m, 13, 'c', 'MAP_EXPR_SYNTAX'),
      at(m, 15, 'c', 'MAP_EXPR_SYNTAX'),
      at(m, 16, 'c', 'MAP_EXPR_SYNTAX'),
    ],
  },
  {
    name: 'every error of a file at once, with the schema errors',
    mapping: `${HEAD('order')}fields:\n  order_no: { from: id, colour: red }\n  crm_id: c\n  status: { from: s, map: { X: shipped_twice } }\n  total_amount: "1 +"\n`,
    expected: (m) => [
      at(m, 7, 'colour', 'CFG_UNKNOWN_KEY'),
      at(m, 8, 'crm_id', 'MAP_UNKNOWN_FIELD'),
      at(m, 9, 'shipped_twice', 'MAP_BAD_ENUM'),
      at(m, 10, '"', 'MAP_EXPR_SYNTAX', 2),
    ],
  },
  {
    // A field the schema refuses still has its well-typed keys checked. An unknown zone is given,
    // so not reported missing; a default converted with it (updated_at's soon) is left unchecked.
    name: 'one schema error in a field does not hide its expression, helper and format errors',
    mapping: [
      HEAD('customer') + 'fields:',
      '  created_at: { expr: "a +", format: "yyyy-MM-dd HH:mm", timezone: Mars/Olympus }',
      '  updated_at: { from: u, format: yyyy-mm-dd, timezone: Nowhere, default: soon }',
      '  birthday: { from: b, parse: number, timezone: 7 }',
      '  nickname: { expr: "x y", colour: red }',
      '  points: { from: p, default: lots, trim: maybe }',
      '  name: { from: n, normalize: fax }',
      '',
    ].join('\n'),
    expected: (m) => [
      at(m, 7, '"', 'MAP_EXPR_SYNTAX', 2),
      at(m, 7, 'Mars', 'CFG_INVALID_VALUE'),
      at(m, 8, 'yyyy', 'MAP_BAD_FORMAT'),
      at(m, 8, 'Nowhere', 'CFG_INVALID_VALUE'),
      at(m, 9, 'number', 'MAP_TYPE_MISMATCH'),
      at(m, 9, '7', 'CFG_INVALID_TYPE'),
      at(m, 10, 'y"', 'MAP_EXPR_SYNTAX'),
      at(m, 10, 'colour', 'CFG_UNKNOWN_KEY'),
      at(m, 11, 'lots', 'MAP_TYPE_MISMATCH'),
      at(m, 11, 'maybe', 'CFG_INVALID_TYPE'),
      at(m, 12, 'fax', 'CFG_INVALID_VALUE'),
    ],
  },
  {
    name: 'a valid mapping using every helper loads',
    mapping: yaml(`
      ${HEAD('order').replaceAll('\n', '\n      ')}identity:
        - { kind: crm_id, value: customerNo }
        - { kind: phone, value: "[contactPhone, altPhone]" }
      fields:
        order_no: { from: orderNo, trim: true }
        status: { from: status, map: { PAID: paid, SHIPPED: shipped }, default: pending }
        total_amount: { from: total, parse: number, default: "0.00" }
        currency: { default: CNY }
        contact_phone: { from: contactPhone, default: null }
        lines: "[lines.line.{'sku': sku}]"
        ordered_at: { from: created, parse: datetime, format: "yyyy-MM-dd HH:mm:ss", timezone: Asia/Shanghai }
        updated_at: { from: updated, format: x }
    `),
    expected: () => [],
  },
];

describe('mapping validation at load', () => {
  it.each(cases)('$name', async ({ mapping, expected }) => {
    expect(await mappingErrors(mapping)).toEqual(expected(mapping));
  });

  it('explains the problem in the message', async () => {
    const { load } = await import('../../config/yaml-fixtures.js');
    const { CONFIG } = await import('./fixture.js');
    const result = await load({ 'junction.yaml': CONFIG, 'm.yaml': `${HEAD('order')}fields:\n  total_amount: { from: v, parse: datetime }\n  note: x\n  status: "$x("\n` });
    expect(result.errors).toEqual([
      'm.yaml:7:35 fields.total_amount.parse: parse: datetime does not fit: total_amount is of type decimal (it feeds datetime or date) [MAP_TYPE_MISMATCH]',
      expect.stringMatching(/^m\.yaml:8:3 fields\.note: order has no field "note" \(fields: order_no, status, .*\) \[MAP_UNKNOWN_FIELD\]$/),
      'm.yaml:9:15 fields.status: Expected ")" before end of expression (JSONata S0203) [MAP_EXPR_SYNTAX]',
    ]);
  });

  it('tells how to write a from: that YAML read as a boolean, number or null, or that holds other characters', async () => {
    const { load } = await import('../../config/yaml-fixtures.js');
    const { CONFIG } = await import('./fixture.js');
    const fields = '  currency: { from: true }\n  status: { from: 12 }\n  order_no: { from: null }\n  lines: { from: items.line-items }\n  ordered_at: { from: 下单时间 }\n';
    const result = await load({ 'junction.yaml': CONFIG, 'm.yaml': `${HEAD('order')}fields:\n${fields}` });
    expect(result.errors).toEqual([
      'm.yaml:7:21 fields.currency.from: expected a field path, but YAML read the boolean true: write the name as it is in the source, in quotes: from: "…" [CFG_INVALID_TYPE]',
      'm.yaml:8:19 fields.status.from: expected a field path, but YAML read the number 12: write the name as it is in the source, in backticks inside quotes, as it starts with a digit: from: "`…`" [CFG_INVALID_TYPE]',
      'm.yaml:9:21 fields.order_no.from: expected a field path, but YAML read null (an empty or null value): write the name as it is in the source, in quotes: from: "…" [CFG_INVALID_TYPE]',
      'm.yaml:10:24 fields.lines.from: from takes a field path such as address.city; put a name with other characters in backticks (`order-no`), or use expr: for an expression [MAP_EXPR_SYNTAX]',
    ]);
  });

  it('a mapping nested past the record depth limit gets its schema error, not a bare MAP_RECORD_TOO_DEEP', async () => {
    const { load } = await import('../../config/yaml-fixtures.js');
    const { CONFIG } = await import('./fixture.js');
    const deep = `${'['.repeat(70)}1${']'.repeat(70)}`;
    const result = await load({ 'junction.yaml': CONFIG, 'm.yaml': `${HEAD('order')}fields:\n  total_amount: { from: total, default: ${deep} }\n` });
    expect(result.errors).toEqual([expect.stringMatching(/^m\.yaml:7:\d+ fields\.total_amount\.default: .*\[CFG_INVALID_TYPE\]$/)]);
  });

  it('names the place of a bad map output or default once, before the message', async () => {
    const { load } = await import('../../config/yaml-fixtures.js');
    const { CONFIG } = await import('./fixture.js');
    const result = await load({ 'junction.yaml': CONFIG, 'm.yaml': `${HEAD('ticket')}fields:\n  priority: { from: p, map: { "1": low }, default: highest }\n` });
    expect(result.errors).toEqual(['m.yaml:7:52 fields.priority.default: "highest" is not one of low, normal, high, urgent [MAP_BAD_ENUM]']);
  });
});
