/**
 * Expressions: which shapes are read directly, that direct reads give exactly JSONata's
 * results (or defer to JSONata) on every data shape, and syntax error positions.
 */
import { describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../connectors/types.js';
import { compileExpression, ExprSyntaxError, NEEDS_JSONATA, parsePath } from '../../../pipelines/map/expression.js';

describe('expression kinds', () => {
  it.each([
    ['email', 'path'],
    ['address.city', 'path'],
    ['a . b', 'path'],
    ['`Order No`', 'path'],
    ['a.b.c.d', 'path'],
    ["{'sku': sku}", 'template'],
    ["items.{'sku': sku, 'qty': q.n}", 'template'],
    ["[lines.line.{'sku': sku, 'unit_price': unitPrice}]", 'template'],
    // everything else is JSONata's
    ['true', 'jsonata'],
    ['null', 'jsonata'],
    ['$', 'jsonata'],
    ['$string(id)', 'jsonata'],
    ['a[0]', 'jsonata'],
    ['a[x > 1]', 'jsonata'],
    ['a.b[]', 'jsonata'],
    ["a.b{'x': x}", 'jsonata'],
    ['[a.b]', 'jsonata'],
    ["{'a': $string(x)}", 'jsonata'],
    ["{'a': x, 'a': y}", 'jsonata'],
    ["a.{'x': x}.y", 'jsonata'],
    ['first & " " & last', 'jsonata'],
  ])('%s → %s', (text, kind) => {
    expect(compileExpression(text).kind).toBe(kind);
  });

  it('fastPath: false forces JSONata', () => {
    expect(compileExpression('email', { fastPath: false }).kind).toBe('jsonata');
  });

  it('from: paths accept words JSONata reserves, and nothing but paths', () => {
    expect(parsePath('true')).toEqual(['true']);
    expect(parsePath('a.`Order No`.b')).toEqual(['a', 'Order No', 'b']);
    expect(compileExpression('and', {}, true).kind).toBe('path');
    for (const bad of ['', 'a b', 'a.', '.a', '$x', 'a[0]', '`a`b', '1a', 'order-no']) expect(parsePath(bad), bad).toBeUndefined();
  });

  it('from: names may be in any script (legacy columns named 姓名), read directly', () => {
    expect(parsePath('客户.姓名')).toEqual(['客户', '姓名']);
    expect(parsePath('Größe_2')).toEqual(['Größe_2']);
    const expr = compileExpression('客户.姓名', {}, true);
    expect(expr.kind).toBe('path');
    expect(expr.get!({ 客户: { 姓名: '王芳' } })).toBe('王芳');
  });

  it('a from: that is not a path points at the segment that is not a name', () => {
    for (const [text, index] of [['a.b c', 2], ['address.order-no', 8], ['`a`b', 0], ['a..b', 2]] as const) {
      expect(() => compileExpression(text, {}, true), text).toThrow(expect.objectContaining({ jsonataCode: 'PATH', index }));
    }
  });
});

/** Every data shape a path or template can meet. */
const SHAPES: SourceRecord[] = [
  {},
  { a: null },
  { a: 's' },
  { a: 3 },
  { a: [] },
  { a: [5] },
  { a: [[1, 2], [3]] },
  { a: {} },
  { a: { b: null } },
  { a: { b: 'x' } },
  { a: { b: [] } },
  { a: { b: [1] } },
  { a: { b: [1, 2] } },
  { a: { b: { x: 1 } } },
  { a: { b: { x: { c: [1] } } } },
  { a: { b: [{ x: 1 }] } },
  { a: { b: [{ x: 1 }, { x: 2 }] } },
  { a: { b: [{ x: [5] }] } },
  { a: { b: [{ y: 1 }] } },
  { a: { b: [{ x: null }] } },
  { a: { b: [[{ x: 1 }]] } },
  { a: { b: [{ x: 1 }, 7] } },
  { a: { b: { x: { y: 2 } } } },
  { a: [{ b: { x: 1 } }] },
  { a: [{ b: 1 }, { b: 2 }] },
  { a: [{ b: [1] }, { b: 2 }] },
  { a: { constructor: 1, toString: 2 } },
  { x: 1, a: { b: { x: 2 } } },
];

const EXPRESSIONS = ['a', 'a.b', 'a.b.x', 'a.b.x.c', 'x', 'a.constructor', 'a.toString', "[a.b.{'x': x}]", "a.b.{'x': x}", "a.{'b': b}", "{'x': x, 'b': a.b}", "[{'x': a}]", "[a.b.{'x': x.y, 'z': x}]"];

/** As JSON (what a mapped record becomes): JSONata tags its result arrays with `sequence`. */
const json = (v: unknown) => (v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as unknown));

describe('direct reads equal JSONata', () => {
  it.each(EXPRESSIONS)('%s on every data shape', async (text) => {
    const expr = compileExpression(text);
    expect(expr.get).toBeDefined();
    let direct = 0;
    for (const record of SHAPES) {
      const value = expr.get!(record);
      if (value === NEEDS_JSONATA) continue;
      direct += 1;
      expect({ record, value: json(value) }).toEqual({ record, value: json(await expr.evaluate(record)) });
    }
    // The plain shapes are read directly, not all deferred to JSONata.
    expect(direct).toBeGreaterThan(SHAPES.length / 3);
  });
});

describe('syntax errors', () => {
  it.each([
    ['$string(id', 10, 'S0203'],
    ['a ++ b', 3, 'S0211'],
    ['a b', 2, 'S0201'],
    ['"abc', 4, 'S0101'],
    ["{'a': }", 6, 'S0211'],
    // A literal as a path step: JSONata names the literal (its value), not a token; the
    // caret goes to the literal's start, not the end.
    ['foo.5 + 1', 4, 'S0213'],
    ['x.1.5 & "y"', 2, 'S0213'],
    ['a.true.b', 2, 'S0213'],
    ['a.null', 2, 'S0213'],
    ['line1.2', 6, 'S0213'],
  ])('%s → index %i (%s)', (text, index, code) => {
    const err = (() => {
      try {
        compileExpression(text);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ExprSyntaxError);
    expect(err).toMatchObject({ index, jsonataCode: code });
  });
});
