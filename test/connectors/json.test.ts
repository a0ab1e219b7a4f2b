/**
 * Driver values to plain JSON: nesting past the limit is refused, or, in a record a stream
 * reads, cut with a stand-in that the map stage dead-letters; never cut to null.
 */
import { describe, expect, it } from 'vitest';
import { JunctionError } from '../../config/errors.js';
import { CUT_MARKER, MAX_JSON_DEPTH, toJsonValue, toRecord } from '../../connectors/json.js';
import type { JsonValue } from '../../connectors/types.js';

/** `levels` nested arrays or objects around 'v'. */
function nested(levels: number, kind: 'object' | 'array' = 'object'): JsonValue {
  let value: JsonValue = 'v';
  for (let i = 0; i < levels; i++) value = kind === 'object' ? { x: value } : [value];
  return value;
}

function thrown(fn: () => unknown): JunctionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(JunctionError);
    return err as JunctionError;
  }
  throw new Error('expected an error');
}

describe('toJsonValue nesting', () => {
  it.each(['object', 'array'] as const)(`%s: ${MAX_JSON_DEPTH} levels come out whole; one more is CONN_BAD_RESPONSE`, (kind) => {
    expect(toJsonValue(nested(MAX_JSON_DEPTH, kind))).toEqual(nested(MAX_JSON_DEPTH, kind));
    const err = thrown(() => toJsonValue(nested(MAX_JSON_DEPTH + 1, kind)));
    expect(err.code).toBe('CONN_BAD_RESPONSE');
    expect(err.details).toEqual({ maxDepth: MAX_JSON_DEPTH });
  });

  it('toRecord counts the row as the first level and cuts below the limit with a stand-in one level too deep', () => {
    expect(toRecord({ a: nested(MAX_JSON_DEPTH - 1) })).toEqual({ a: nested(MAX_JSON_DEPTH - 1) });
    const cut = toRecord({ k: 1, a: nested(10_000, 'array') });
    expect(cut.k).toBe(1);
    let level: JsonValue = cut.a!;
    let depth = 2;
    while (Array.isArray(level)) {
      level = level[0]!;
      depth++;
    }
    expect(level).toEqual({ [CUT_MARKER]: `nested deeper than ${MAX_JSON_DEPTH} levels; cut here` });
    expect(depth).toBe(MAX_JSON_DEPTH + 1);
  });

  it('dates, buffers and bigints at the deepest level are still leaves', () => {
    let value: unknown = { at: new Date('2025-01-01T00:00:00Z'), bin: Buffer.from('hi'), n: 2n ** 64n };
    for (let i = 1; i < MAX_JSON_DEPTH; i++) value = { x: value };
    let leaf = toJsonValue(value) as { [k: string]: JsonValue };
    for (let i = 1; i < MAX_JSON_DEPTH; i++) leaf = leaf.x as { [k: string]: JsonValue };
    expect(leaf).toEqual({ at: '2025-01-01T00:00:00.000Z', bin: 'aGk=', n: '18446744073709551616' });
  });
});

describe('a member named __proto__', () => {
  it('stays a member of the record and of nested values, without touching the prototype', () => {
    const row = JSON.parse('{"__proto__": {"tier": "gold"}, "k": 1, "doc": {"__proto__": [1, 2]}}') as Record<string, unknown>;
    const record = toRecord(row);
    expect(Object.keys(record)).toEqual(['__proto__', 'k', 'doc']);
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(record, '__proto__')?.value).toEqual({ tier: 'gold' });
    const doc = toJsonValue(row.doc) as Record<string, JsonValue>;
    expect(Object.getOwnPropertyDescriptor(doc, '__proto__')?.value).toEqual([1, 2]);
    expect(JSON.stringify(record)).toBe('{"__proto__":{"tier":"gold"},"k":1,"doc":{"__proto__":[1,2]}}');
  });
});
