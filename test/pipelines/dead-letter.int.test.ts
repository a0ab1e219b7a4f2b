/**
 * Dead letters of records that hold U+0000 (legacy C strings, padded CHAR columns) or a lone
 * UTF-16 surrogate (a JSON source that cut a string inside an emoji): PostgreSQL text and
 * jsonb cannot store them, yet the letter must be written (the batch goes on), keep the
 * payload exactly as the source sent it, be shown by `junction dlq show`, and replay.
 * And records nested too deep to hash or store: they fail alone and are kept cut.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../config/log.js';
import { getDeadLetter } from '../../jobs/dead-letters.js';
import { NUL_WRAPPER, payloadOf, storedPayload, writeDeadLetters } from '../../pipelines/dead-letter.js';
import { applyIsolating } from '../../pipelines/load/isolate.js';
import { nulPath, surrogatePath } from '../../pipelines/load/values.js';
import { canonicalJson, cutDeep, CUT_MARKER } from '../../pipelines/map/canonical-json.js';
import { lastReads } from '../../pipelines/last-read.js';
import { compileMapping } from '../../pipelines/map/compile.js';
import { mapBatch } from '../../pipelines/map/map-batch.js';
import { replayDeadLetters } from '../../pipelines/replay.js';
import { resolveRules } from '../../pipelines/resolve/rules.js';
import type { RecordFailure } from '../../pipelines/types.js';
import { runCli } from '../helpers/cli.js';
import { SOURCE, STREAM, tempDir, writeSyncConfig } from '../helpers/sync-fixture.js';
import { inTx, scratchDatabase, type ScratchDb } from '../helpers/unified.js';

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

describe('dead letters of payloads with a lone surrogate', () => {
  const dir = tempDir('dead-letter');
  const config = (version: 1 | 2) => loadConfig(writeSyncConfig(dir, { sourceUrl: 'postgres://x:y@127.0.0.1:1/none', mappingVersion: version }));
  const order = (no: string, status: string, extra: object = {}) => ({
    order_no: no, customer_email: `${no.toLowerCase()}@example.com`, status, total: '1.00', created_at: '2025-01-01T00:00:00Z', updated_at: '2025-01-01T00:00:00Z', ...extra,
  });

  it('are stored wrapped, and read back exactly as the source sent them', async () => {
    const raw = { _id: 'u\ud83d4', note: 'nice \ud83d', ok: 'fine \ud83d\ude00', 'k\udc00': ['\ud800'] };
    expect(Object.keys(JSON.parse(storedPayload(raw)) as object)).toEqual([NUL_WRAPPER]);
    expect(storedPayload({ ok: 'fine \ud83d\ude00' })).toBe(JSON.stringify({ ok: 'fine \ud83d\ude00' }));
    const letter = await roundTrip(failure('u\ud83d4', raw));
    expect(letter!.payload).toEqual(raw);
    expect(Object.keys(letter!.payload as object)).toEqual(Object.keys(raw));
    expect(letter!.sourceKey).toBe('u\uFFFD4');
  });

  it('a bad record holding one fails alone: its batch commits, `dlq show` shows it, and it replays', async () => {
    const v1 = await config(1);
    const page = [order('A1', 'PAID'), order('A2', 'ON_HOLD', { note: 'nice \ud83d' }), order('A3\ud83d', 'PAID')];
    const mapped = await mapBatch(compileMapping(v1.mappings[0]!, v1), SOURCE, STREAM, page);
    await inTx(db.pool, async (tx) => {
      const applied = await applyIsolating(tx, mapped.records, resolveRules(v1));
      expect(applied.loaded).toBe(1);
      await writeDeadLetters(tx, null, [...mapped.failures, ...applied.failures]);
    });
    const { rows } = await db.pool.query<{ id: string; source_key: string; error_code: string }>(
      'SELECT id, source_key, error_code FROM hub.dead_letter WHERE source = $1 ORDER BY id', [SOURCE]);
    expect(rows.map((r) => [r.source_key, r.error_code])).toEqual([['A2', 'MAP_BAD_VALUE'], ['A3\uFFFD', 'ID_INVALID_VALUE']]);

    const show = await runCli(['dlq', 'show', rows[0]!.id], { JUNCTION_PG_DATABASE: new URL(db.url).pathname.slice(1), JUNCTION_LOG_LEVEL: 'error' });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('"note": "nice \\ud83d"');

    const replay = await replayDeadLetters({ config: await config(2), pool: db.pool, log: silentLogger, filter: { source: SOURCE } });
    expect(replay).toMatchObject({ selected: 2, loaded: 1, failedAgain: 1 });
    const loaded = await db.pool.query(`SELECT status FROM unified."order" WHERE source_key = 'A2'`);
    expect(loaded.rows).toEqual([{ status: 'pending' }]);
    expect((await getDeadLetter(db.pool, Number(rows[1]!.id)))!.payload).toEqual(page[2]);
  }, 60_000);
});

describe('dead letters of records nested too deep', () => {
  const dir = tempDir('dead-letter-deep');
  const order = (no: string, extra: object = {}) => ({
    order_no: no, customer_email: `${no.toLowerCase()}@example.com`, status: 'PAID', total: '1.00', created_at: '2025-01-01T00:00:00Z', updated_at: '2025-01-01T00:00:00Z', ...extra,
  });
  const nest = (levels: number): unknown => {
    let v: unknown = 'bottom';
    for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v };
    return v;
  };

  it('a record 10,000 levels deep fails alone (MAP_RECORD_TOO_DEEP), is stored cut, and fails the same way on replay', async () => {
    const config = await loadConfig(writeSyncConfig(dir, { sourceUrl: 'postgres://x:y@127.0.0.1:1/none' }));
    const compiled = compileMapping(config.mappings[0]!, config);
    // 63 levels under the record itself: 64 in all, the most a record may have.
    const page = [order('D1', { note: nest(63) }), order('D2', { note: nest(10_000) }), order('D3')];
    const mapped = await mapBatch(compiled, SOURCE, STREAM, page);
    expect(mapped.records.map((r) => r.sourceKey)).toEqual(['D1', 'D3']);
    expect(mapped.failures.map((f) => [f.sourceKey, f.code])).toEqual([['D2', 'MAP_RECORD_TOO_DEEP']]);
    expect(mapped.failures[0]!.message).toContain('nested deeper than 64 levels');
    await inTx(db.pool, async (tx) => {
      expect((await applyIsolating(tx, mapped.records, resolveRules(config))).loaded).toBe(2);
      await writeDeadLetters(tx, null, mapped.failures);
    });

    const { rows } = await db.pool.query<{ id: string }>(
      `SELECT id FROM hub.dead_letter WHERE source = $1 AND error_code = 'MAP_RECORD_TOO_DEEP'`, [SOURCE]);
    expect(rows).toHaveLength(1);
    const letter = await getDeadLetter(db.pool, Number(rows[0]!.id));
    const payload = letter!.payload as Record<string, unknown>;
    expect(payload.order_no).toBe('D2');
    let level: unknown = payload.note;
    let depth = 2; // of `level`: the record is level 1
    while (level !== null && typeof level === 'object' && !(CUT_MARKER in level)) {
      level = Array.isArray(level) ? level[0] : (level as { a: unknown }).a;
      depth++;
    }
    expect(depth).toBe(65); // the record, 63 kept levels of note, then the marker in the rest's place
    expect(() => canonicalJson(payload)).toThrow(expect.objectContaining({ code: 'MAP_RECORD_TOO_DEEP' }));

    const replay = await replayDeadLetters({ config, pool: db.pool, log: silentLogger, filter: { source: SOURCE, ids: [Number(rows[0]!.id)] } });
    expect(replay).toMatchObject({ selected: 1, loaded: 0, failedAgain: 1 });
    const again = await db.pool.query('SELECT error_code FROM hub.dead_letter WHERE id = $1', [rows[0]!.id]);
    expect(again.rows).toEqual([{ error_code: 'MAP_RECORD_TOO_DEEP' }]);
  }, 60_000);

  it('a newer read of a key that is too deep is the one the page keeps: the older read does not load over it', async () => {
    const config = await loadConfig(writeSyncConfig(dir, { sourceUrl: 'postgres://x:y@127.0.0.1:1/none' }));
    const compiled = compileMapping(config.mappings[0]!, config);
    const page = [order('K1', { v: 1 }), order('K1', { v: 2, note: nest(200) })];
    const kept = lastReads(page, await mapBatch(compiled, SOURCE, STREAM, page));
    expect(kept.records).toEqual([]);
    expect(kept.failures.map((f) => [f.sourceKey, f.code])).toEqual([['K1', 'MAP_RECORD_TOO_DEEP']]);
    // The failure holds the page's own record; what is stored of it is cut.
    expect(kept.failures[0]!.raw).toBe(page[1]);
    expect(storedPayload(kept.failures[0]!.raw)).toContain(`"${CUT_MARKER}"`);
  });

  it('a key that needs JSONata is read from the cut copy, so the letter names its record', async () => {
    const config = await loadConfig(writeSyncConfig(dir, { sourceUrl: 'postgres://x:y@127.0.0.1:1/none' }));
    const entry = config.mappings[0]!;
    const compiled = compileMapping({ ...entry, mapping: { ...entry.mapping, key: "'K-' & order_no" } }, config);
    const mapped = await mapBatch(compiled, SOURCE, STREAM, [order('D9', { note: nest(10_000) })]);
    expect(mapped.failures.map((f) => [f.sourceKey, f.code])).toEqual([['K-D9', 'MAP_RECORD_TOO_DEEP']]);
  });

  it('cutDeep keeps a shallow record whole, holes in arrays and dates as JSON writes them', () => {
    const raw = { a: [1, undefined, { b: 'x', at: new Date(0) }], c: null, d: undefined };
    expect(cutDeep(raw)).toEqual(JSON.parse(JSON.stringify(raw)));
    expect(JSON.stringify(cutDeep(raw))).toBe(JSON.stringify(raw));
    // A member named __proto__ (JSON.parse makes an own one) is kept, not taken for the prototype.
    const proto = JSON.parse('{"__proto__": {"x": 1}, "a": [{"__proto__": 2}]}') as unknown;
    expect(storedPayload(proto)).toBe(JSON.stringify(proto));
  });
});

describe('surrogatePath', () => {
  it.each([
    ['a pair (an emoji)', 'ok \ud83d\ude00', null],
    ['a lone high surrogate', 'a\ud83d', ''],
    ['a lone low surrogate in an array', ['x', { sku: '\ude00A' }], '[1].sku'],
    ['an object key', { 'a\ud800': 1 }, '."a\\ud800"'],
  ] as const)('%s', (_name, value, path) => {
    expect(surrogatePath(value)).toBe(path);
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
