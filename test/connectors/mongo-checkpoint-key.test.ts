/**
 * Checkpoint keys of the mongo connector (connectors/mongo/checkpoint-key.ts) and the
 * keyset predicate built from them: a key keeps its BSON type through the text a checkpoint
 * is stored as, and checkpoints stored before that still resume. Live reads against
 * FerretDB are in mongo.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Binary, Decimal128, Int32, Long, ObjectId, UUID } from 'mongodb';
import { decodeKey, encodeKey } from '../../connectors/mongo/checkpoint-key.js';
import { afterCheckpoint, cursorToBson } from '../../connectors/mongo/query.js';

/** What `hub.checkpoint.cursor_key` gives back: pipelines/checkpoint.ts stores `String(key)`. */
const stored = (key: string | number): string => String(key);

describe('mongo checkpoint keys keep their BSON type', () => {
  it.each([
    ['an ObjectId _id, as plain hex (as always stored)', '_id', new ObjectId('65a000000000000000000002'), '65a000000000000000000002'],
    ['a 24-hex string _id', '_id', '65a000000000000000000002', '$str:65a000000000000000000002'],
    ['a plain string', '_id', 'user-42', 'user-42'],
    ['a string of digits', '_id', '5', '$str:5'],
    ['a string like a date-time', '_id', '2025-06-01T00:00:00.000Z', '$str:2025-06-01T00:00:00.000Z'],
    ['a string starting with $', '_id', '$num:5', '$str:$num:5'],
    ['a string that is only a $', '_id', '$', '$str:$'],
    ['an int', '_id', 5, '$num:5'],
    ['a negative double', '_id', -1.5, '$num:-1.5'],
    ['an Int32 object', '_id', new Int32(7), '$num:7'],
    ['a long past 2^53', '_id', Long.fromString('9007199254740993'), '$num:9007199254740993'],
    ['a Decimal128', '_id', Decimal128.fromString('0.1'), '$dec:0.1'],
    ['a date', '_id', new Date('2025-06-01T00:00:00Z'), '$date:2025-06-01T00:00:00.000Z'],
    ['binary data', '_id', new Binary(Buffer.from('héllo'), 0), `$bin:0:${Buffer.from('héllo').toString('base64')}`],
    ['an ObjectId in another key field', 'ref', new ObjectId('65a000000000000000000002'), '$oid:65a000000000000000000002'],
    ['a 24-hex string in another key field (plain hex is a string there)', 'ref', '65a000000000000000000002', '65a000000000000000000002'],
  ])('%s', (_name, field, value, key) => {
    expect(encodeKey(field, value)).toBe(key);
    const [back, ...more] = decodeKey(field, stored(key));
    expect(more).toEqual([]);
    if (value instanceof Int32) expect(back).toBe(7);
    else if (value instanceof Long) expect((back as Long).toString()).toBe(value.toString());
    else if (value instanceof Decimal128) expect((back as Decimal128).toString()).toBe(value.toString());
    else expect(back).toEqual(value);
  });

  it('a UUID _id comes back as binary of subtype 4', () => {
    const uuid = new UUID('0f8fad5b-d9cb-469f-a165-70867728950e');
    const [back] = decodeKey('_id', encodeKey('_id', uuid)!);
    expect(back).toBeInstanceOf(Binary);
    expect((back as Binary).sub_type).toBe(4);
    expect((back as Binary).toUUID().toHexString()).toBe(uuid.toHexString());
  });

  it.each([
    ['null', null],
    ['missing', undefined],
    ['a boolean', true],
    ['a document', { a: 1 }],
    ['an array', [1]],
    ['NaN', Number.NaN],
    ['an invalid date', new Date('nope')],
  ])('cannot checkpoint after %s', (_name, value) => {
    expect(encodeKey('_id', value)).toBeUndefined();
  });

  it.each([
    ['a number key stored as its digits', '5', [5, '5']],
    ['a long key stored as its digits', '9007199254740993', [Long.fromString('9007199254740993'), '9007199254740993']],
    ['a date key stored as ISO-8601', '2025-06-01T00:00:00.000Z', [new Date('2025-06-01T00:00:00Z'), '2025-06-01T00:00:00.000Z']],
    ['digits no number prints as', '007', ['007']],
    ['a decimal no double prints as', '1.50', ['1.50']],
    ['a string with an unknown $ prefix', '$foo:1', ['$foo:1']],
    ['a plain string', 'abc', ['abc']],
  ])('a checkpoint stored before keys kept their type: %s stands for %j', (_name, key, values) => {
    expect(decodeKey('_id', key)).toEqual(values);
  });

  it('a key given as a JSON number (read --after) is that number', () => {
    expect(decodeKey('_id', 5)).toEqual([5]);
  });

  it.each(['$oid:xyz', '$num:abc', '$num:1.50', '$date:yesterday', '$bin:1:***', '$bin:300:AA==', '$dec:x'])('refuses the malformed key %s with CONN_CURSOR', (key) => {
    expect(() => decodeKey('_id', key)).toThrow(expect.objectContaining({ code: 'CONN_CURSOR' }));
  });
});

describe('mongo keyset predicate', () => {
  const spec = { cursor: 'updatedAt', key: '_id' };

  it('a 24-hex string key is compared as a string, an ObjectId key as an ObjectId', () => {
    const at = '2025-06-01T00:00:00.000Z';
    const date = new Date(at);
    expect(afterCheckpoint(spec, { cursor: at, key: '$str:65a000000000000000000002' })).toEqual({
      $or: [
        { updatedAt: { $gt: date } },
        { updatedAt: date, _id: { $gt: '65a000000000000000000002' } },
        { updatedAt: { $gt: at } },
        { updatedAt: at, _id: { $gt: '65a000000000000000000002' } },
      ],
    });
    expect(afterCheckpoint({ cursor: undefined, key: '_id' }, { cursor: null, key: '65a000000000000000000002' })).toEqual({
      _id: { $gt: new ObjectId('65a000000000000000000002') },
    });
  });

  it('a key stored as plain digits asks for either the number or the string', () => {
    expect(afterCheckpoint({ cursor: undefined, key: '_id' }, { cursor: null, key: '5' })).toEqual({ $or: [{ _id: { $gt: 5 } }, { _id: { $gt: '5' } }] });
  });

  it.each([
    ['a date', '2020-01-01', [new Date('2020-01-01T00:00:00Z'), '2020-01-01']],
    ['a date-time without an offset (UTC)', '2020-01-01T08:30:00', [new Date('2020-01-01T08:30:00Z'), '2020-01-01T08:30:00']],
    ['a date-time with a space', '2020-01-01 08:30:00', [new Date('2020-01-01T08:30:00Z'), '2020-01-01 08:30:00']],
    ['a +08 offset', '2020-01-01T08:30:00+08', [new Date('2020-01-01T00:30:00Z'), '2020-01-01T08:30:00+08']],
    ['a number', '100', [100, '100']],
    ['a decimal', '100.50', [100.5, '100.50']],
    ['an int64 past 2^53 (json.ts writes it as text)', '9007199254740993', [Long.fromString('9007199254740993'), '9007199254740993']],
  ])('a cursor typed as %s (read --since, sync --from) is that value or the string itself', (_name, text, values) => {
    expect(cursorToBson(text)).toEqual(values);
    expect(afterCheckpoint(spec, { cursor: text, key: null })).toEqual({ $or: values.map((v) => ({ updatedAt: { $gte: v } })) });
  });

  it('a cursor as json.ts writes a date is that date or the string itself (the checkpoint of a field of ISO strings)', () => {
    expect(cursorToBson('2020-01-01T00:00:00.000Z')).toEqual([new Date('2020-01-01T00:00:00Z'), '2020-01-01T00:00:00.000Z']);
    expect(cursorToBson('2020-01-01T08:00:00+08:00')).toEqual([new Date('2020-01-01T00:00:00Z'), '2020-01-01T08:00:00+08:00']);
    expect(cursorToBson(42)).toEqual([42]);
    expect(cursorToBson('abc')).toEqual(['abc']);
  });
});
