/**
 * The `--json` contract (bin/json-output.ts, README "CLI"): stdout is one line, one JSON
 * object, of one shape whatever the input or outcome; a command that cannot run prints
 * `{"error":{"code","message"}}` there and keeps its human message on stderr. These cases
 * need no service: the hub's are pointed at closed ports. test/bin/json-output.int.test.ts
 * runs the same checks against the stack.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { JunctionError } from '../../config/errors.js';
import { argvAsksJson, junctionErrorJson, usageErrorJson } from '../../bin/json-output.js';
import { runCli } from '../helpers/cli.js';
import { expectJsonCase, type JsonCase } from './json-output-cases.js';

// The child must see the demo defaults, not whatever the developer's shell exports.
const cleanEnv = { ORDERS_WSDL_URL: '', TICKETS_URL: '', SHOP_PG_URL: '', APP_MONGO_URL: '', ORACLE_URL: '' };
const PASSWORD = 'TopSecretJsonPw';
const pgDown = { ...cleanEnv, JUNCTION_PG_URL: `postgres://junction:${PASSWORD}@127.0.0.1:1/junction` };
const redisDown = { ...cleanEnv, JUNCTION_REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:1` };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-json-'));
const bad = path.join(dir, 'junction.yaml');
fs.writeFileSync(bad, 'version: 1\nsources: {}\nbogus_key: 1\n');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cases: JsonCase[] = [
  { args: ['check', '--no-connect', '--json'], env: cleanEnv, exit: 0, keys: ['errors', 'sources'], check: (d) => expect(d).toEqual({ errors: [], sources: [] }) },
  // An invalid config is check's verdict (exit 2), printed in the same shape as a valid one.
  {
    args: ['check', '--no-connect', '--json', '--config', bad],
    exit: 2,
    keys: ['errors', 'sources'],
    check: (d) => expect(d).toEqual({ errors: [expect.objectContaining({ code: 'CFG_UNKNOWN_KEY', line: 3, col: 1, path: 'bogus_key' })], sources: [] }),
  },
  {
    args: ['read', 'a.b', '--json', '--config', bad],
    exit: 2,
    error: 'CFG_UNKNOWN_KEY',
    check: (d) => expect(d.error).toMatchObject({ errors: [{ code: 'CFG_UNKNOWN_KEY', line: 3, col: 1, path: 'bogus_key' }] }),
  },
  { args: ['dlq', 'replay', '--json', '--config', bad], exit: 2, error: 'CFG_UNKNOWN_KEY' },
  { args: ['read', 'app_mongo.users', '--since', 'garbage', '--json'], env: cleanEnv, exit: 1, error: 'CONN_CURSOR' },
  { args: ['discover', 'nope', '--json'], env: cleanEnv, exit: 1, error: 'CFG_UNKNOWN_REF', check: (d) => expect(d.error).toMatchObject({ where: { source: 'nope' } }) },
  { args: ['mapping', 'preview', 'mappings/nope.yaml', '--json'], env: cleanEnv, exit: 1, error: 'CFG_UNKNOWN_REF' },
  { args: ['customers', 'explain', 'abc', '--json'], env: cleanEnv, exit: 1, error: 'ID_BAD_ID' },
  { args: ['agents', 'add', '--email', 'bad', '--name', 'X', '--team', 'billing', '--json'], env: cleanEnv, exit: 1, error: 'GW_AGENT_INVALID' },
  { args: ['dlq', 'list', '--json'], env: pgDown, exit: 1, error: 'STACK_NOT_RUNNING' },
  { args: ['migrate', '--json'], env: pgDown, exit: 1, error: 'STACK_NOT_RUNNING' },
  { args: ['customers', 'show', 'a@b.cn', '--json'], env: pgDown, exit: 1, error: 'STACK_NOT_RUNNING' },
  { args: ['agents', 'list', '--json'], env: pgDown, exit: 1, error: 'STACK_NOT_RUNNING' },
  { args: ['analytics', 'repair', '--json'], env: pgDown, exit: 1, error: 'STACK_NOT_RUNNING' },
  { args: ['analytics', 'repair', '--since', 'yesterday', '--json'], exit: 1, error: 'CLI_USAGE', stderr: /expected an ISO-8601 time/ },
  { args: ['sync', 'tickets_php.tickets', '--json'], env: redisDown, exit: 1, error: 'STACK_NOT_RUNNING' },
  // A service that is down is stack status's verdict (exit 1), in its usual shape.
  {
    args: ['stack', 'status', '--only', 'clickhouse', '--json'],
    env: { JUNCTION_CLICKHOUSE_URL: `http://default:${PASSWORD}@127.0.0.1:1` },
    exit: 1,
    keys: ['services'],
    check: (d) => expect(d.services).toEqual([expect.objectContaining({ name: 'clickhouse', state: 'unreachable' })]),
  },
  // Commander refuses these before any action runs.
  { args: ['read', 'a.b', '--limit', 'abc', '--json'], exit: 1, error: 'CLI_USAGE', stderr: /argument 'abc' is invalid/ },
  { args: ['dlq', 'list', '--since', '2025-02-30', '--json'], exit: 1, error: 'CLI_USAGE', stderr: /option '--since <time>' argument '2025-02-30' is invalid\. no such date or time/ },
  { args: ['frobnicate', '--json'], exit: 1, error: 'CLI_USAGE', stderr: /unknown command 'frobnicate'/ },
  { args: ['read', '--json'], exit: 1, error: 'CLI_USAGE', stderr: /missing required argument/ },
  // The benchmarks' contract: the last line is one object of figures (human lines on stderr).
  { args: ['bench', 'map', '--records', '500', '--json'], exit: 0, keys: ['bench', 'records', 'fastPath', 'jsonata', 'speedup', 'failures'], check: (d) => expect(d.bench).toBe('map') },
];

describe('--json output, no services needed', () => {
  // One at a time: each spawn compiles the CLI (2-4 s of CPU), and a crowd of them times out.
  it.each(cases.map((c) => [c.args.join(' '), c] as const))('%s', async (_name, c) => {
    const res = await runCli(c.args, c.env);
    expectJsonCase(c, res);
    expect(res.stdout + res.stderr).not.toContain(PASSWORD);
  });
});

describe('json-output helpers', () => {
  it('--json counts only before a -- that ends the options', () => {
    expect(argvAsksJson(['read', 'a.b', '--json'])).toBe(true);
    expect(argvAsksJson(['read', 'a.b', '--', '--json'])).toBe(false);
    expect(argvAsksJson(['read', 'a.b', '--jsonx'])).toBe(false);
  });

  it('a coded error keeps where and details, with secrets masked in every string', () => {
    const err = new JunctionError('CONN_AUTH_FAILED', 'refused s3cretPassw0rd', { where: { source: 'shop' }, details: { jobId: '7', reason: 'user s3cretPassw0rd' } });
    expect(junctionErrorJson(err, ['s3cretPassw0rd'])).toEqual({
      error: { code: 'CONN_AUTH_FAILED', message: 'refused ***', where: { source: 'shop' }, details: { jobId: '7', reason: 'user ***' } },
    });
  });

  it("a usage error keeps commander's code as a detail", () => {
    const err = new CommanderError(1, 'commander.unknownOption', "error: unknown option '--jsn'");
    expect(usageErrorJson(err)).toEqual({ error: { code: 'CLI_USAGE', message: "unknown option '--jsn'", details: { commander: 'commander.unknownOption' } } });
  });
});
