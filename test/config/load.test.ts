/**
 * The loader on broken configs: every case asserts the exact `file:line:col` and code of
 * every error reported (all of them, in order), then the behaviours around a valid load.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { isConfigErrors, loadConfig } from '../../config/load.js';
import { MAX_FILE_BYTES } from '../../config/yaml-file.js';
import { BASE, MAPPING, load, writeFiles, yaml } from './yaml-fixtures.js';

interface Case {
  name: string;
  files: Record<string, string>;
  env?: Record<string, string>;
  /** `file:line:col CODE` of every error, in the order reported. */
  expected: string[];
}

const cases: Case[] = [
  {
    name: 'unknown key at the top level',
    files: { 'junction.yaml': 'version: 1\ncolour: red\nsources: {}\n' },
    expected: ['junction.yaml:2:1 CFG_UNKNOWN_KEY'],
  },
  {
    name: 'unknown key nested in a stream',
    files: { 'junction.yaml': BASE.replace('cursor: [updated_at, id], key: id', 'key: id, bogus: 1') },
    expected: ['junction.yaml:7:50 CFG_UNKNOWN_KEY'],
  },
  {
    name: 'wrong type',
    files: {
      'junction.yaml': yaml(`
        version: 1
        sources:
          shop:
            type: postgres
            url: postgres://127.0.0.1/db
            max_connections: many
            streams: {}
      `),
    },
    expected: ['junction.yaml:6:22 CFG_INVALID_TYPE'],
  },
  {
    name: 'wrong type in a union (cursor)',
    files: { 'junction.yaml': BASE.replace('cursor: [updated_at, id]', 'cursor: 5') },
    expected: ['junction.yaml:7:49 CFG_INVALID_TYPE'],
  },
  {
    name: 'unknown source type',
    files: { 'junction.yaml': 'version: 1\nsources:\n  shop:\n    type: mysql\n    streams: {}\n' },
    expected: ['junction.yaml:4:11 CFG_UNKNOWN_KIND'],
  },
  {
    name: 'missing source type',
    files: { 'junction.yaml': 'version: 1\nsources:\n  shop:\n    url: postgres://h/db\n    streams: {}\n' },
    expected: ['junction.yaml:4:5 CFG_MISSING_KEY'],
  },
  {
    name: 'missing required key in a flow map points at the map',
    files: { 'junction.yaml': BASE.replace(', cursor: [updated_at, id], key: id', '') },
    expected: ['junction.yaml:7:17 CFG_MISSING_KEY'],
  },
  {
    name: 'enabled source with an empty url',
    files: { 'junction.yaml': BASE.replace('url: postgres://127.0.0.1/db', 'url: ""') },
    expected: ['junction.yaml:5:10 CFG_MISSING_KEY'],
  },
  {
    name: 'table and query both given',
    files: { 'junction.yaml': BASE.replace('key: id }', 'key: id, query: select 1 }') },
    expected: ['junction.yaml:7:83 CFG_INVALID_VALUE'],
  },
  {
    name: 'bad cron',
    files: { 'junction.yaml': `${BASE}schedules:\n  - { name: nightly, sync: shop.accounts, cron: "0 25 * * *" }\n` },
    expected: ['junction.yaml:9:49 CFG_BAD_CRON'],
  },
  {
    name: 'bad time zone',
    files: {
      'junction.yaml': `${BASE}schedules:\n  - { name: nightly, sync: shop.accounts, cron: "0 3 * * *", timezone: Mars/Olympus }\n`,
    },
    expected: ['junction.yaml:9:72 CFG_BAD_CRON'],
  },
  {
    name: 'unset environment variable (no cascade from the empty value)',
    files: { 'junction.yaml': BASE.replace('url: postgres://127.0.0.1/db', 'url: ${SHOP_DB_URL}') },
    expected: ['junction.yaml:5:10 CFG_ENV_MISSING'],
  },
  {
    name: 'malformed interpolation',
    files: { 'junction.yaml': BASE.replace('url: postgres://127.0.0.1/db', 'url: postgres://${1HOST}/db') },
    expected: ['junction.yaml:5:10 CFG_INVALID_VALUE'],
  },
  {
    name: 'mapping file missing (reported at the entry)',
    files: { 'junction.yaml': `${BASE}mappings:\n  - mappings/missing.yaml\n` },
    expected: ['junction.yaml:9:5 CFG_FILE_NOT_FOUND'],
  },
  {
    name: 'YAML syntax error',
    files: { 'junction.yaml': 'version: 1\nsources:\n  shop: { type: postgres\nschedules: []\n' },
    expected: ['junction.yaml:4:1 CFG_YAML_SYNTAX'],
  },
  {
    name: 'duplicate source name (duplicate YAML key)',
    files: { 'junction.yaml': `${BASE}  shop:\n    type: mongo\n    url: mongodb://127.0.0.1/app\n    streams: {}\n` },
    expected: ['junction.yaml:8:3 CFG_DUPLICATE_NAME'],
  },
  {
    // Syncs take the first mapping of a stream: a second would preview as if live and never run.
    name: 'two mapping files for one stream (reported at the second one\'s stream)',
    files: { 'junction.yaml': `${BASE}mappings: [m.yaml, m2.yaml]\n`, 'm.yaml': MAPPING, 'm2.yaml': MAPPING },
    expected: ['m2.yaml:3:9 CFG_DUPLICATE_NAME'],
  },
  {
    name: 'duplicate schedule name',
    files: {
      'junction.yaml': `${BASE}schedules:\n  - { name: sync, sync: shop.accounts, cron: "* * * * *" }\n  - { name: sync, sync: shop.accounts, mode: full, cron: "0 3 * * *" }\n`,
    },
    expected: ['junction.yaml:10:13 CFG_DUPLICATE_NAME'],
  },
  {
    name: 'schedules referencing an unknown stream and an unknown source',
    files: {
      'junction.yaml': `${BASE}schedules:\n  - { name: a, sync: shop.orders, cron: "* * * * *" }\n  - { name: b, sync: crm.customers, cron: "* * * * *" }\n`,
    },
    expected: ['junction.yaml:9:22 CFG_UNKNOWN_REF', 'junction.yaml:10:22 CFG_UNKNOWN_REF'],
  },
  {
    name: 'incremental schedule of a stream without cursor',
    files: {
      'junction.yaml': `${BASE.replace('cursor: [updated_at, id], ', '')}schedules:\n  - { name: a, sync: shop.accounts, cron: "* * * * *" }\n`,
    },
    expected: ['junction.yaml:9:22 CFG_INVALID_VALUE'],
  },
  {
    name: 'mapping with an unknown source',
    files: { 'junction.yaml': `${BASE}mappings: [m.yaml]\n`, 'm.yaml': MAPPING.replace('source: shop', 'source: crm') },
    expected: ['m.yaml:2:9 MAP_UNKNOWN_SOURCE'],
  },
  {
    name: 'mapping with an unknown stream',
    files: { 'junction.yaml': `${BASE}mappings: [m.yaml]\n`, 'm.yaml': MAPPING.replace('stream: accounts', 'stream: orders') },
    expected: ['m.yaml:3:9 MAP_UNKNOWN_SOURCE'],
  },
  {
    name: 'mapping with an undeclared identity kind',
    files: {
      'junction.yaml': `${BASE}mappings: [m.yaml]\n`,
      'm.yaml': `${MAPPING}identity:\n  - { kind: email, value: email }\n`,
    },
    expected: ['m.yaml:9:13 MAP_UNKNOWN_IDENTITY'],
  },
  {
    name: 'mapping file with an unknown key',
    files: { 'junction.yaml': `${BASE}mappings: [m.yaml]\n`, 'm.yaml': MAPPING.replace('fields:', 'colour: red\nfields:') },
    expected: ['m.yaml:6:1 CFG_UNKNOWN_KEY'],
  },
  {
    name: 'mapping file with a YAML error and a bad field',
    files: {
      'junction.yaml': `${BASE}mappings: [a.yaml, b.yaml]\n`,
      'a.yaml': 'version: 1\nsource: [shop\n',
      'b.yaml': MAPPING.replace('{ from: email, normalize: email }', '{ from: email, normalize: lowercase }'),
    },
    expected: ['a.yaml:3:1 CFG_YAML_SYNTAX', 'b.yaml:7:36 CFG_INVALID_VALUE'],
  },
  {
    name: 'missing version',
    files: { 'junction.yaml': 'sources: {}\n' },
    expected: ['junction.yaml:1:1 CFG_VERSION'],
  },
  {
    name: 'unsupported version',
    files: { 'junction.yaml': 'version: 2\nsources: {}\n' },
    expected: ['junction.yaml:1:10 CFG_VERSION'],
  },
  {
    name: 'invalid source name',
    files: { 'junction.yaml': BASE.replace('  shop:', '  Shop-DB:') },
    expected: ['junction.yaml:3:3 CFG_INVALID_VALUE'],
  },
  {
    name: 'negative timeout',
    files: { 'junction.yaml': `${BASE}    lookups:\n      account: { query: "select 1", timeout_ms: -5 }\n` },
    expected: ['junction.yaml:9:49 CFG_INVALID_VALUE'],
  },
  {
    name: 'multiple errors in one file, all reported in order',
    files: {
      'junction.yaml': yaml(`
        version: 1
        sources:
          shop:
            type: postgres
            url: postgres://127.0.0.1/db
            max_connections: 0
            streams:
              accounts: { table: shop.accounts, key: id, extra: true }
          app:
            type: mongo
            streams: {}
        schedules:
          - { name: a, sync: shop.accounts, mode: full, cron: "* * * *" }
        colour: red
      `),
    },
    expected: [
      'junction.yaml:6:22 CFG_INVALID_VALUE',
      'junction.yaml:8:50 CFG_UNKNOWN_KEY',
      'junction.yaml:10:5 CFG_MISSING_KEY',
      'junction.yaml:13:55 CFG_BAD_CRON',
      'junction.yaml:14:1 CFG_UNKNOWN_KEY',
    ],
  },
];

describe('loadConfig: broken configs', () => {
  it('has enough cases', () => expect(cases.length).toBeGreaterThanOrEqual(18));

  it.each(cases)('$name', async ({ files, env, expected }) => {
    const result = await load(files, { env: env ?? {} });
    expect(result.config).toBeUndefined();
    expect(result.codes).toEqual(expected);
  });

  it('formats errors as file:line:col path: message [CODE]', async () => {
    const { errors } = await load({ 'junction.yaml': BASE.replace('key: id }', 'key: id, bogus: 1 }') });
    expect(errors).toEqual(['junction.yaml:7:76 sources.shop.streams.accounts.bogus: unknown key "bogus" [CFG_UNKNOWN_KEY]']);
  });

  it('names the accepted kinds for an unknown type', async () => {
    const { errors } = await load({ 'junction.yaml': 'version: 1\nsources:\n  shop:\n    type: mysql\n' });
    expect(errors).toEqual([
      'junction.yaml:4:11 sources.shop.type: unknown type "mysql"; expected one of soap | rest | postgres | mongo | oracle [CFG_UNKNOWN_KIND]',
    ]);
  });
});

describe('loadConfig: what a file holds before it is YAML', () => {
  const withMapping = (mapping: string | Buffer) => ({ 'junction.yaml': `${BASE}mappings: [m.yaml]\n`, 'm.yaml': mapping });

  /** The formatted errors of loading `files` (Buffers written as raw bytes); [] when it loads. */
  async function loadBytes(files: Record<string, string | Buffer>): Promise<string[]> {
    const dir = writeFiles({});
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
    try {
      await loadConfig(path.join(dir, 'junction.yaml'), { env: {}, relativeTo: dir });
      return [];
    } catch (err) {
      if (!isConfigErrors(err)) throw err;
      return err.errors.map((e) => e.format());
    }
  }

  it.each([
    ['a number and its quoted text', '      "1": low\n      1: urgent\n', 12],
    ['a leading zero, quoted and not', '      01: low\n      "01": urgent\n', 12],
    ['a boolean and its quoted text', '      true: low\n      "true": urgent\n', 12],
  ])('two spellings of one map key (%s) are a duplicate, not the later one silently winning', async (_what, entries, line) => {
    const mapping = `${MAPPING}  status:\n    from: status\n    map:\n${entries}    default: open\n`;
    const errors = await loadBytes(withMapping(mapping));
    expect(errors.filter((e) => e.includes('[CFG_DUPLICATE_NAME]'))).toEqual([expect.stringMatching(new RegExp(`^m\\.yaml:${line}:7 fields\\.status\\.map\\..*duplicate key`))]);
  });

  it('keeps 1 and 01 apart (different keys as written)', async () => {
    const mapping = `${MAPPING}  status:\n    from: status\n    map:\n      1: low\n      01: urgent\n    default: open\n`;
    const errors = await loadBytes(withMapping(mapping));
    expect(errors.filter((e) => e.includes('[CFG_DUPLICATE_NAME]'))).toEqual([]);
  });

  it('refuses Latin-1 bytes with CFG_ENCODING at the first bad byte, and a UTF-16 file by its byte-order mark or its NUL bytes', async () => {
    const latin1 = Buffer.concat([Buffer.from(`${MAPPING}  status:\n    from: status\n    map: { "`), Buffer.from([0xe9]), Buffer.from('t": open }\n')]);
    expect(await loadBytes(withMapping(latin1))).toEqual(['m.yaml:10:13: not valid UTF-8 here (a Latin-1 or other legacy encoding?): save the file as UTF-8 [CFG_ENCODING]']);
    // A U+FFFD the file really holds (in a comment) does not hide the bad byte after it.
    const genuine = Buffer.concat([Buffer.from(`# \uFFFD\n${MAPPING}  status:\n    from: status\n    map: { "`), Buffer.from([0xe9]), Buffer.from('t": open }\n')]);
    expect(await loadBytes(withMapping(genuine))).toEqual(['m.yaml:11:13: not valid UTF-8 here (a Latin-1 or other legacy encoding?): save the file as UTF-8 [CFG_ENCODING]']);
    expect(await loadBytes(withMapping(Buffer.from(MAPPING, 'utf16le')))).toEqual(['m.yaml:1:2: a NUL byte (UTF-16 without a byte-order mark?): save the file as UTF-8 [CFG_ENCODING]']);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(MAPPING, 'utf16le')]);
    expect(await loadBytes(withMapping(utf16))).toEqual(['m.yaml:1:1: m.yaml is UTF-16 (it starts with a UTF-16 byte-order mark): save it as UTF-8 [CFG_ENCODING]']);
  });

  it('refuses an alias bomb with CFG_YAML_SYNTAX at the alias that expands too far, not at the top of the file', async () => {
    // Nine levels of ten aliases each: 10^9 copies if expanded.
    const levels = ['x0: &x0 [a, a, a, a, a, a, a, a, a, a]'];
    for (let i = 1; i <= 8; i++) levels.push(`x${i}: &x${i} [${Array.from({ length: 10 }, () => `*x${i - 1}`).join(', ')}]`);
    const errors = await loadBytes(withMapping(`${MAPPING}# padding\n${levels.map((l) => `${l}\n`).join('')}`));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^m\.yaml:(\d+):(\d+): aliases expand too far here .*\[CFG_YAML_SYNTAX\]$/);
    const [, line, col] = /^m\.yaml:(\d+):(\d+)/.exec(errors[0]!)!;
    const lines = `${MAPPING}# padding\n${levels.join('\n')}`.split('\n');
    expect(lines[Number(line) - 1]!.slice(Number(col) - 1)).toMatch(/^\*x\d/);
  });

  it('refuses a file over 1 MiB with CFG_FILE_TOO_LARGE (at the entry naming it) before reading it', async () => {
    const huge = `${MAPPING}# ${'x'.repeat(MAX_FILE_BYTES)}\n`;
    const errors = await loadBytes(withMapping(huge));
    expect(errors).toEqual([expect.stringMatching(/^junction\.yaml:8:12 mappings\[0\]: m\.yaml is \d+ bytes; config and mapping files may hold at most 1048576 \[CFG_FILE_TOO_LARGE\]$/)]);
  });
});

