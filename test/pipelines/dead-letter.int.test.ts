/**
 * Dead letters of records that hold U+0000 (legacy C strings, padded CHAR columns): PostgreSQL
 * text and jsonb cannot store it, yet the letter must be written (the batch goes on) and
 * keep the payload exactly as the source sent it, for replay.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getDeadLetter } from '../../jobs/dead-letters.js';
import { NUL_WRAPPER, payloadOf, storedPayload, writeDeadLetters } from '../../pipelines/dead-letter.js';
import { nulPath } from '../../pipelines/load/values.js';
import type { RecordFailure } from '../../pipelines/types.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

let db: ScratchDb;
beforeAll(async () => {
  db = await scratchDatabase('dead_letter');
});
afterAll(async () => {
  await db?.close();
});
beforeEach(async () => {
  await db.reset();
});

const failure = (sourceKey: string, raw: RecordFailure['raw']): RecordFailure => ({
  source: 'app_mongo', stream: 'users', sourceKey, stage: 'load', code: 'ID_INVALID_VALUE', message: `name: ${sourceKey} holds a NUL`, raw, mappingVersion: 'v1',
});

async function roundTrip(f: RecordFailure) {
  await writeDeadLetters(db.pool, null, [f]);
  const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM hub.dead_letter ORDER BY id DESC LIMIT 1');
  return getDeadLetter(db.pool, Number(rows[0]!.id));
}

describe('dead letters of payloads with U+0000', () => {
  it('are stored, and read back exactly as the source sent them', async () => {
    const raw = { _id: 'u\u00001', name: 'Wang\u0000\u0000', tags: ['a', 'b\u0000'], nested: { 'k\u0000': 1 } };
    const letter = await roundTrip(failure('u\u00001', raw));
    expect(letter!.payload).toEqual(raw);
    // Key and message are for people: U+FFFD shows where the NUL was.
    expect(letter!.sourceKey).toBe('u\uFFFD1');
    expect(letter!.errorMessage).toBe('name: u\uFFFD1 holds a NUL');
  });

  it('leave other payloads as they are, a payload shaped like the wrapper included', async () => {
    const plain = { _id: 'u2', name: 'Li' };
    expect(storedPayload(plain)).toBe(JSON.stringify(plain));
    expect((await roundTrip(failure('u2', plain)))!.payload).toEqual(plain);
    const lookalike = { [NUL_WRAPPER]: 'eyJ4IjoxfQ==' };
    expect((await roundTrip(failure('u3', lookalike)))!.payload).toEqual(lookalike);
    const { rows } = await db.pool.query<{ payload: unknown }>("SELECT payload FROM hub.dead_letter WHERE source_key = 'u3'");
    expect(payloadOf(rows[0]!.payload)).toEqual(lookalike);
  });
});

describe('nulPath', () => {
  it.each([
    ['a plain string', 'ab', null],
    ['a string with NUL', 'a\u0000', ''],
    ['an array element', ['x', { sku: 'A\u0000' }], '[1].sku'],
    ['an object key', { 'a\u0000': 1 }, '."a\\u0000"'],
    ['numbers and booleans', { n: 1, b: true, z: null }, null],
  ] as const)('%s', (_name, value, path) => {
    expect(nulPath(value)).toBe(path);
  });
});
