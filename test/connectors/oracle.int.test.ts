/**
 * The oracle connector against a real Oracle database: runs only when ORACLE_URL is set
 * (oracle://user:password@host:port/service, a user that can SELECT CRM.CUSTOMERS as created
 * by demo/oracle/crm_ddl.sql and seeded by `junction demo seed`'s crm_oracle_seed.sql).
 * Read-only: it never writes to the database. Without ORACLE_URL every test is skipped; the
 * dialect, binds and conversions are covered by oracle.test.ts.
 */
import { createHash } from 'node:crypto';
import oracledb from 'oracledb';
import type { Connection } from 'oracledb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import { oracleConnectParams, spec as oracleSpec } from '../../connectors/oracle.js';
import type { Batch, Connector, SourceRecord } from '../../connectors/types.js';

const ORACLE_URL = process.env.ORACLE_URL;

async function collect(iterable: AsyncIterable<Batch>): Promise<{ records: SourceRecord[]; batches: Batch[] }> {
  const batches: Batch[] = [];
  for await (const b of iterable) batches.push(b);
  return { records: batches.flatMap((b) => b.records), batches };
}

const sha256 = (lines: string[]) => createHash('sha256').update(lines.join('\n')).digest('hex');

describe.runIf(ORACLE_URL)('oracle (live Oracle at ORACLE_URL): CRM.CUSTOMERS', () => {
  let direct: Connection;
  const open: Connector[] = [];
  const connector = (dialect: '12c' | '11g', batchSize = 64): Connector => {
    const config = oracleSpec.config.parse({
      type: 'oracle',
      url: ORACLE_URL,
      dialect,
      streams: { customers: { table: 'CRM.CUSTOMERS', cursor: ['UPDATED_AT', 'CRM_ID'], key: 'CRM_ID', batch_size: batchSize } },
      lookups: { customer: { query: 'SELECT CRM_ID, NAME, UPDATED_AT FROM CRM.CUSTOMERS WHERE CRM_ID = :crm_id', params: ['crm_id'] } },
    });
    const c = createConnector('crm_oracle', config, { log: silentLogger });
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    direct = await oracledb.getConnection(oracleConnectParams(ORACLE_URL!));
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await direct?.close();
  });

  /** (CRM_ID, UPDATED_AT as UTC ISO) of every row, straight from oracledb, in cursor order. */
  async function expectedKeys(): Promise<string[]> {
    const res = await direct.execute('SELECT CRM_ID, UPDATED_AT FROM CRM.CUSTOMERS ORDER BY UPDATED_AT, CRM_ID', [], { outFormat: oracledb.OUT_FORMAT_OBJECT });
    return (res.rows ?? []).map((r) => `${r.CRM_ID as string} ${(r.UPDATED_AT as Date).toISOString()}`);
  }

  it.each(['12c', '11g'] as const)('check() and discover() with the %s dialect', async (dialect) => {
    const c = connector(dialect);
    expect(await c.check()).toMatchObject({ ok: true });
    const [customers] = await c.discover();
    expect(customers!.fields).toEqual(
      expect.arrayContaining([
        { name: 'CRM_ID', type: 'string', nullable: false },
        { name: 'VIP_LEVEL', type: 'integer', nullable: false },
        { name: 'UPDATED_AT', type: 'datetime', nullable: false },
      ]),
    );
  });

  it.each(['12c', '11g'] as const)('a full read (%s) returns exactly the rows of CRM.CUSTOMERS, each once, in cursor order', async (dialect) => {
    const { records, batches } = await collect(connector(dialect).read('customers', null));
    const expected = await expectedKeys();
    expect(records).toHaveLength(expected.length);
    expect(sha256(records.map((r) => `${r.CRM_ID as string} ${r.UPDATED_AT as string}`))).toBe(sha256(expected));
    expect(batches.every((b) => b.records.length <= 64)).toBe(true);
    expect(typeof records[0]?.VIP_LEVEL).toBe('number');
  });

  it('resumes from a checkpoint with exactly the rows after it', async () => {
    const c = connector('12c', 50);
    const all = await collect(c.read('customers', null));
    expect(all.batches.length).toBeGreaterThan(1);
    const middle = all.batches[Math.floor(all.batches.length / 2)]!;
    const consumed = all.batches.slice(0, all.batches.indexOf(middle) + 1).reduce((n, b) => n + b.records.length, 0);
    const rest = await collect(c.read('customers', middle.checkpoint));
    expect(rest.records.map((r) => r.CRM_ID)).toEqual(all.records.slice(consumed).map((r) => r.CRM_ID));
  });

  it('looks a customer up, and binds SQL fragments harmlessly', async () => {
    const c = connector('12c');
    const [first] = (await collect(c.read('customers', null, { limit: 1 }))).records;
    expect(await c.lookup('customer', { crm_id: first!.CRM_ID })).toMatchObject({ CRM_ID: first!.CRM_ID, UPDATED_AT: first!.UPDATED_AT });
    expect(await c.lookup('customer', { crm_id: "' OR 1=1 --" })).toBeNull();
  });
});
