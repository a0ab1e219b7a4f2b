/**
 * The map stage over batches: records that cannot be mapped become RecordFailures and the
 * rest of the batch maps; identity keys; payload hash, origins and version; fast path and
 * forced JSONata give the same results.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../connectors/types.js';
import { canonicalJson, sha256Json } from '../../../pipelines/map/canonical-json.js';
import { compileMapping } from '../../../pipelines/map/compile.js';
import { mapBatch, mapRecord } from '../../../pipelines/map/map-batch.js';
import { load } from '../../config/yaml-fixtures.js';
import { CONFIG, compileYaml, mappingYaml, yaml } from './fixture.js';

const CUSTOMER = mappingYaml(
  'customer',
  `
    name: { from: name, trim: true }
    email: email
    phone: phone
    updated_at: { from: updated, timezone: Asia/Shanghai }
    nickname: "$uppercase(nick)"
  `,
  'identity:\n  - { kind: shop_account, value: id }\n  - { kind: email, value: email }\n  - { kind: phone, value: phone }\n',
);

/** Runs `work`, counting the event loop's turns (setImmediate callbacks) while it runs. */
async function countingTurns<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const result = await work();
  done = true;
  return { result, turns };
}

describe('mapBatch', () => {
  it('stops an expression that never ends, recurses without bound or builds a huge sequence: that record fails with the JSONata code, the batch goes on', async () => {
    const m = await compileYaml(
      mappingYaml(
        'customer',
        `
    nickname: >-
      nick = 'loop' ? ($f := function($x){ $f($x) }; $f(1))
      : nick = 'deep' ? ($g := function($x){ $x > 0 ? 1 + $g($x - 1) : 0 }; $g(100000))
      : nick = 'big' ? $count([1..9999999].[1..1000])
      : $uppercase(nick)
  `,
        'identity:\n  - { kind: shop_account, value: id }\n',
      ),
    );
    // The event loop turns between the records that ran to a limit (a worker's lock renewals go on).
    const { result, turns } = await countingTurns(() => mapBatch(m, 'shop', 'accounts', ['ok', 'loop', 'deep', 'big', 'fine'].map((nick, i) => ({ id: String(i), nick }))));
    expect(turns).toBeGreaterThanOrEqual(2);
    expect(result.records.map((r) => [r.sourceKey, r.fields.nickname])).toEqual([
      ['0', 'OK'],
      ['4', 'FINE'],
    ]);
    expect(result.failures.map((f) => [f.sourceKey, f.code, /\(JSONata (\w+)\)/.exec(f.message)?.[1]])).toEqual([
      ['1', 'MAP_EVAL_FAILED', 'D1012'],
      ['2', 'MAP_EVAL_FAILED', 'D1011'],
      ['3', 'MAP_EVAL_FAILED', 'D2015'],
    ]);
  }, 30_000);

  it('turns bad records into RecordFailures and maps the rest of the batch', async () => {
    const m = await compileYaml(CUSTOMER);
    const records: SourceRecord[] = [
      { id: '1', name: ' 张伟 ', email: 'A@B.com', phone: '138-0013-8000', updated: '2025-01-01 08:00:00', nick: 'zw' },
      { name: 'no key' },
      { id: '3', updated: '2025-13-01 00:00:00' },
      { id: '4', nick: { not: 'text' } },
      { id: '5', email: 'x@y.com', phone: 'call me', updated: 'soon' },
      { id: 6, email: 'c@d.com' },
    ];
    const result = await mapBatch(m, 'shop', 'accounts', records);
    expect(result.records.map((r) => r.sourceKey)).toEqual(['1', '6']);
    expect(result.failures.map((f) => [f.sourceKey, f.code])).toEqual([
      [null, 'MAP_MISSING_KEY'],
      ['3', 'MAP_BAD_VALUE'],
      ['4', 'MAP_EVAL_FAILED'],
      ['5', 'MAP_BAD_VALUE'],
    ]);
    const [missing, badDate, evalFailed, twoBad] = result.failures;
    expect(missing).toMatchObject({ source: 'shop', stream: 'accounts', stage: 'map', raw: records[1], mappingVersion: m.version });
    expect(badDate?.message).toMatch(/^m\.yaml:14 fields\.updated_at: cannot read "2025-13-01 00:00:00" as a datetime/);
    // JSONata throws plain objects: their message and code, and the field's line, never "[object Object]".
    expect(evalFailed?.message).toBe('m.yaml:15 fields.nickname: $uppercase(nick): Argument 1 of function "uppercase" does not match function signature (JSONata T0410)');
    expect(missing?.message).toMatch(/^m\.yaml:\d+ key: id gives nothing, not a key$/);
    // every problem of the record, not just the first
    expect(twoBad?.message).toContain('fields.phone: "call me" is not a valid phone number');
    expect(twoBad?.message).toContain('fields.updated_at: cannot read "soon" as a datetime');
  });

  it('maps every declared field (null when the source has none) and keeps the raw record', async () => {
    const m = await compileYaml(CUSTOMER);
    const raw = { id: '1', name: ' 张伟 ', email: 'A@B.com', phone: '138-0013-8000', updated: '2025-01-01 08:00:00', nick: 'zw' };
    const { records } = await mapBatch(m, 'shop', 'accounts', [raw, { id: '2' }]);
    expect(records[0]).toEqual({
      source: 'shop',
      stream: 'accounts',
      target: 'customer',
      sourceKey: '1',
      fields: { name: '张伟', email: 'a@b.com', phone: '+8613800138000', updated_at: '2025-01-01T00:00:00.000Z', nickname: 'ZW' },
      identities: [
        { kind: 'shop_account', value: '1' },
        { kind: 'email', value: 'a@b.com' },
        { kind: 'phone', value: '+8613800138000' },
      ],
      payloadHash: sha256Json(raw),
      raw,
      origins: {
        name: { file: 'm.yaml', line: 11 },
        email: { file: 'm.yaml', line: 12 },
        phone: { file: 'm.yaml', line: 13 },
        updated_at: { file: 'm.yaml', line: 14 },
        nickname: { file: 'm.yaml', line: 15 },
      },
      mappingVersion: m.version,
    });
    expect(records[1]?.fields).toEqual({ name: null, email: null, phone: null, updated_at: null, nickname: null });
    expect(records[1]?.identities).toEqual([{ kind: 'shop_account', value: '2' }]);
  });

  it('refuses a batch of another stream (a wiring bug)', async () => {
    const m = await compileYaml(CUSTOMER);
    await expect(mapBatch(m, 'shop', 'orders', [])).rejects.toThrow(/maps shop\.accounts, not shop\.orders/);
  });

  it('maps plain-path records synchronously (no promise per record)', async () => {
    const m = await compileYaml(mappingYaml('customer', 'email: email\nname: n'));
    expect(mapRecord(m, { id: '1', email: 'a@b.com' })).not.toBeInstanceOf(Promise);
    const withJsonata = await compileYaml(mappingYaml('customer', 'name: "$trim(n)"'));
    expect(mapRecord(withJsonata, { id: '1', n: ' x ' })).toBeInstanceOf(Promise);
  });

  it('lets the event loop turn while it maps a large batch (query results of the batch loading meanwhile are not held up)', async () => {
    const m = await compileYaml(CUSTOMER);
    const records = Array.from({ length: 30_000 }, (_, i) => ({ id: String(i), name: `n${i}`, email: `u${i}@x.cn`, phone: `1380013${String(i % 10_000).padStart(4, '0')}`, updated: '2025-01-01 08:00:00', nick: 'z' }));
    const { result, turns } = await countingTurns(() => mapBatch(m, 'shop', 'accounts', records));
    expect(result.records).toHaveLength(30_000);
    // Far more than the one turn a single synchronous run would leave (30,000 records take ≥ 100 ms; slices are 3 ms).
    expect(turns).toBeGreaterThan(5);
  });
});

describe('identity keys', () => {
  const IDENTITY = mappingYaml(
    'customer',
    'name: n',
    'identity:\n  - { kind: email, value: emails }\n  - { kind: phone, value: phones }\n  - { kind: crm_id, value: crm }\n  - { kind: phone, value: phone2 }\n',
  );

  it.each([
    { name: 'normalized per kind', record: { emails: ' Zhang@QQ.com ', phones: '0086-138-0013-8000' }, keys: ['email=zhang@qq.com', 'phone=+8613800138000'] },
    { name: 'blocked values dropped in any spelling', record: { emails: ' TEST@test.com ', phones: '+86 138 0000 0000', crm: 'C1' }, keys: ['crm_id=C1'] },
    { name: 'invalid and empty values dropped', record: { emails: 'nope', phones: '12345', crm: '  ' }, keys: [] },
    {
      name: 'a list gives one key per item, duplicates once',
      record: { emails: ['a@b.com', 'A@B.COM', 'c@d.com'], phones: ['13800138000', '+86 138 0013 8000'], phone2: '13800138000' },
      keys: ['email=a@b.com', 'email=c@d.com', 'phone=+8613800138000'],
    },
    { name: 'kinds without normalize: trimmed text, numbers as digits', record: { crm: ' C1000001 ' }, keys: ['crm_id=C1000001'] },
    { name: 'a number as crm id', record: { crm: 1000001 }, keys: ['crm_id=1000001'] },
    { name: 'a phone stored as a number', record: { phones: 13800138000 }, keys: ['phone=+8613800138000'] },
  ])('$name', async ({ record, keys }) => {
    const m = await compileYaml(IDENTITY);
    const outcome = await mapRecord(m, { id: '1', ...record } as unknown as SourceRecord);
    expect(outcome.ok && outcome.record.identities.map((k) => `${k.kind}=${k.value}`)).toEqual(keys);
  });
});

describe('payload hash and mapping version', () => {
  it('hashes the canonical JSON of the raw record: stable key order, sensitive to content', () => {
    const a = { id: '1', b: { y: [1, { q: 1, p: 2 }], x: null }, a: 'é' };
    const b = { a: 'é', b: { x: null, y: [1, { p: 2, q: 1 }] }, id: '1' };
    expect(canonicalJson(a)).toBe('{"a":"é","b":{"x":null,"y":[1,{"p":2,"q":1}]},"id":"1"}');
    expect(sha256Json(a)).toBe(sha256Json(b));
    expect(sha256Json(a)).toBe(createHash('sha256').update(canonicalJson(b)).digest('hex'));
    expect(sha256Json({ ...a, id: '2' })).not.toBe(sha256Json(a));
  });

  it('labels the mapping file@hash of its data: comments do not change it, content does', async () => {
    const base = mappingYaml('customer', 'name: n');
    const v1 = (await compileYaml(base)).version;
    expect(v1).toMatch(/^m\.yaml@[0-9a-f]{12}$/);
    expect((await compileYaml(`# a comment\n${base}`)).version).toBe(v1);
    expect((await compileYaml(base.replace('name: n', 'name: m'))).version).not.toBe(v1);
  });

  it('changes with the config the mapping is compiled with: a newly blocked value, the region, an attribute type', async () => {
    const text = mappingYaml('customer', 'name: n\npoints: p', 'identity:\n  - { kind: phone, value: tel }\n');
    const { config, errors } = await load({ 'junction.yaml': CONFIG, 'm.yaml': text });
    expect(errors).toEqual([]);
    const loaded = config!.mappings[0]!;
    const v1 = compileMapping(loaded, config!).version;
    expect(v1).toMatch(/^m\.yaml@[0-9a-f]{12}$/);
    const phone = config!.identity.kinds.phone!;
    const variants = [
      { ...config!, identity: { ...config!.identity, kinds: { ...config!.identity.kinds, phone: { ...phone, blocked: [...phone.blocked, '13912345678'] } } } },
      { ...config!, identity: { ...config!.identity, default_region: 'HK' } },
      { ...config!, attributes: { ...config!.attributes, points: { type: 'decimal' } } },
    ];
    for (const v of variants) expect(compileMapping(loaded, v).version).not.toBe(v1);
    // A kind the mapping does not write changes nothing.
    const email = config!.identity.kinds.email!;
    const other = { ...config!, identity: { ...config!.identity, kinds: { ...config!.identity.kinds, email: { ...email, blocked: ['x@y.cn'] } } } };
    expect(compileMapping(loaded, other).version).toBe(v1);
  });
});

describe('fast path and forced JSONata', () => {
  const MIXED = yaml(`
    version: 1
    source: shop
    stream: accounts
    target: order
    key: no
    identity:
      - { kind: crm_id, value: customer.crm }
      - { kind: phone, value: "[contact.phone, contact.alt]" }
    fields:
      order_no: { from: no, trim: true }
      status: { from: s, map: { P: paid, S: shipped }, default: pending }
      total_amount: { from: total, parse: number }
      contact_phone: { from: contact.phone, default: null }
      lines: "[lines.line.{'sku': sku, 'qty': qty}]"
      currency: "$uppercase(cur)"
      ordered_at: { from: at, format: "yyyy-MM-dd HH:mm:ss", timezone: Asia/Shanghai }
  `);
  const RECORDS: SourceRecord[] = [
    { no: ' A1 ', s: 'P', total: '1,299.00', contact: { phone: '138-0013-8000' }, customer: { crm: 'C1' }, lines: { line: [{ sku: 'x', qty: 1 }] }, cur: 'cny', at: '2025-01-01 00:00:00' },
    { no: 'A2', s: 'S', total: '3', contact: [{ phone: '13800138000' }, { phone: '13900139000' }], lines: { line: { sku: 'y', qty: 2 } }, cur: 'usd' },
    { no: 'A3', s: '?', total: 'x', lines: { line: [[{ sku: 'z' }]] } },
    { no: 'A4', contact: { phone: 'n/a', alt: '0086-139-0013-9000' }, lines: 'none', customer: [{ crm: 'C4' }, { crm: 'C5' }] },
    { s: 'P' },
  ];

  it('give the same records and failures', async () => {
    const fast = await compileYaml(MIXED);
    const slow = await compileYaml(MIXED, { fastPath: false });
    expect(fast.fields.map((f) => f.expr?.kind)).toEqual(['path', 'path', 'path', 'path', 'template', 'jsonata', 'path']);
    expect(slow.fields.every((f) => f.expr?.kind === 'jsonata')).toBe(true);
    const a = await mapBatch(fast, 'shop', 'accounts', RECORDS);
    const b = await mapBatch(slow, 'shop', 'accounts', RECORDS);
    expect(JSON.parse(JSON.stringify(a))).toEqual(JSON.parse(JSON.stringify(b)));
    expect(a.records.length).toBe(3);
    expect(a.failures.map((f) => f.code)).toEqual(['MAP_BAD_VALUE', 'MAP_MISSING_KEY']);
  });
});
