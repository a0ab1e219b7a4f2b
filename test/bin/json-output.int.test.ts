/**
 * The `--json` contract (README "CLI") against the running stack: the demo sources for the
 * readers, and a scratch hub database for the unified view, dead letters and agents. Every
 * command prints one line, one JSON object, in one shape whatever the input: `customers show`
 * lists one customer or two under `customers`, as `read` lists its records under `records`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';
import { expectJsonCase, type JsonCase } from './json-output-cases.js';

// The child must see the demo defaults (the stack's estate), not the developer's shell.
const cleanEnv = { ORDERS_WSDL_URL: '', TICKETS_URL: '', SHOP_PG_URL: '', APP_MONGO_URL: '', ORACLE_URL: '' };

let db: ScratchDb;
let hub: NodeJS.ProcessEnv;

beforeAll(async () => {
  db = await scratchDatabase('json_output');
  hub = { ...cleanEnv, JUNCTION_PG_URL: db.url };
  // Two customers holding one email (a shared identity): a query can name several.
  await db.pool.query(`INSERT INTO unified.customer (id, name) VALUES (1, 'Ann'), (2, 'Anne')`);
  await db.pool.query(
    `INSERT INTO unified.customer_identity (kind, value, customer_id, state) VALUES ('email', 'shared@x.cn', 1, 'shared'), ('email', 'shared@x.cn', 2, 'shared')`,
  );
}, 60_000);

afterAll(async () => {
  await db?.close();
});

const list = (key: string, length?: number) => (d: Record<string, unknown>) => {
  expect(Array.isArray(d[key]), key).toBe(true);
  if (length !== undefined) expect(d[key]).toHaveLength(length);
};

/** A case run against the stack; `hub`: with JUNCTION_PG_URL set to the scratch database. */
type LiveCase = JsonCase & { hub?: true };

const cases: LiveCase[] = [
  { args: ['check', '--json'], env: cleanEnv, exit: 0, keys: ['errors', 'sources'], check: list('sources', 5) },
  { args: ['read', 'tickets_php.tickets', '--limit', '2', '--json'], env: cleanEnv, exit: 0, keys: ['source', 'stream', 'records', 'checkpoint'], check: list('records') },
  { args: ['discover', 'shop_pg', '--json'], env: cleanEnv, exit: 0, keys: ['source', 'streams'], check: list('streams') },
  {
    args: ['mapping', 'preview', 'mappings/shop_pg.accounts.yaml', '--limit', '1', '--json'],
    env: cleanEnv,
    exit: 0,
    keys: ['source', 'stream', 'target', 'version', 'records'],
    check: list('records'),
  },
  { args: ['stack', 'status', '--json'], exit: 0, keys: ['services'], check: list('services', 6) },
  { args: ['customers', 'show', 'shared@x.cn', '--json'], hub: true, exit: 0, keys: ['customers'], check: list('customers', 2) },
  { args: ['customers', 'show', '1', '--json'], hub: true, exit: 0, keys: ['customers'], check: list('customers', 1) },
  { args: ['customers', 'show', 'nobody@x.cn', '--json'], hub: true, exit: 1, error: 'ID_NOT_FOUND' },
  { args: ['customers', 'explain', '1', '--json'], hub: true, exit: 0, keys: ['id', 'chain', 'unexplained', 'shared', 'history'] },
  { args: ['dlq', 'list', '--json'], hub: true, exit: 0, keys: ['deadLetters'], check: list('deadLetters', 0) },
  { args: ['dlq', 'show', '1', '--json'], hub: true, exit: 1, error: 'SYNC_DEAD_LETTER_NOT_FOUND' },
  { args: ['agents', 'list', '--json'], hub: true, exit: 0, keys: ['agents'], check: list('agents', 0) },
];

describe('--json output against the stack', () => {
  it.each(cases.map((c) => [c.args.join(' '), c] as const))('%s', async (_name, c) => {
    expectJsonCase(c, await runCli(c.args, c.hub ? hub : c.env));
  });
});
