/**
 * The oracle connector without an Oracle server (none can run here): the SQL and binds the
 * shared reader generates for the 12c and 11g dialects, the conversion of values shaped as
 * node-oracledb returns them, ORA-/NJS- error classification, the URL, and the page sequence
 * over a scripted driver. The live test is oracle.int.test.ts (needs ORACLE_URL).
 */
import oracledb from 'oracledb';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../config/log.js';
import { createConnector } from '../../connectors/index.js';
import { toRecord } from '../../connectors/json.js';
import { oracleConnectParams, spec as oracleSpec } from '../../connectors/oracle.js';
import { createSqlConnector } from '../../connectors/sql/connector.js';
import { oracle11gDialect, oracle12cDialect } from '../../connectors/sql/dialects.js';
import type { ColumnInfo, SqlDriver } from '../../connectors/sql/driver.js';
import { rewriteNamedParams } from '../../connectors/sql/named-params.js';
import { oracleError, ORACLE_ERRORS } from '../../connectors/sql/oracle-errors.js';
import { oracleBindValue, oracleColumn, oracleFetchTypeHandler, oracleWallClockToIso } from '../../connectors/sql/oracle-types.js';
import { lookupBinds, pageQuery, prepareLookup, probeQuery } from '../../connectors/sql/query-builder.js';
import { planStream } from '../../connectors/sql/stream-plan.js';
import type { Batch } from '../../connectors/types.js';

const customers = planStream('crm_oracle', 'customers', {
  table: 'CRM.CUSTOMERS',
  cursor: ['UPDATED_AT', 'CRM_ID'],
  key: 'CRM_ID',
  batch_size: 500,
  statement_timeout_ms: 60_000,
});
const vip = planStream('crm_oracle', 'vip', {
  query: 'SELECT CRM_ID, NAME, UPDATED_AT FROM CRM.CUSTOMERS WHERE VIP_LEVEL >= 3',
  cursor: ['UPDATED_AT', 'CRM_ID'],
  key: 'CRM_ID',
  batch_size: 500,
  statement_timeout_ms: 60_000,
});
const AT = '2026-01-01T00:00:00.000Z';

describe('oracle dialect (no live Oracle: generated SQL, binds and conversion only)', () => {
  describe('12c: OFFSET … FETCH NEXT, :name binds, expanded keyset predicate', () => {
    it('first page', () => {
      expect(pageQuery(oracle12cDialect, customers, null, 500)).toEqual({
        sql: 'SELECT * FROM "CRM"."CUSTOMERS" t ORDER BY t."UPDATED_AT", t."CRM_ID" OFFSET 0 ROWS FETCH NEXT :page_size ROWS ONLY',
        binds: { page_size: 500 },
      });
    });

    it('after a checkpoint', () => {
      expect(pageQuery(oracle12cDialect, customers, { cursor: AT, key: 'C1000123' }, 500)).toEqual({
        sql:
          'SELECT * FROM "CRM"."CUSTOMERS" t WHERE (t."UPDATED_AT" > :after_cursor OR (t."UPDATED_AT" = :after_cursor AND t."CRM_ID" > :after_key))' +
          ' ORDER BY t."UPDATED_AT", t."CRM_ID" OFFSET 0 ROWS FETCH NEXT :page_size ROWS ONLY',
        binds: { after_cursor: AT, after_key: 'C1000123', page_size: 500 },
      });
    });

    it('from a cursor value inclusive (`--since`)', () => {
      expect(pageQuery(oracle12cDialect, customers, { cursor: AT, key: null }, 10)).toEqual({
        sql: 'SELECT * FROM "CRM"."CUSTOMERS" t WHERE t."UPDATED_AT" >= :after_cursor ORDER BY t."UPDATED_AT", t."CRM_ID" OFFSET 0 ROWS FETCH NEXT :page_size ROWS ONLY',
        binds: { after_cursor: AT, page_size: 10 },
      });
    });

    it('a declared query, wrapped as a subquery with the predicates outside', () => {
      expect(pageQuery(oracle12cDialect, vip, { cursor: AT, key: 'C1' }, 100)).toEqual({
        sql:
          'SELECT * FROM (SELECT CRM_ID, NAME, UPDATED_AT FROM CRM.CUSTOMERS WHERE VIP_LEVEL >= 3) t' +
          ' WHERE (t."UPDATED_AT" > :after_cursor OR (t."UPDATED_AT" = :after_cursor AND t."CRM_ID" > :after_key))' +
          ' ORDER BY t."UPDATED_AT", t."CRM_ID" OFFSET 0 ROWS FETCH NEXT :page_size ROWS ONLY',
        binds: { after_cursor: AT, after_key: 'C1', page_size: 100 },
      });
    });

    it('the zero-row permission probe', () => {
      expect(probeQuery(oracle12cDialect, customers.from)).toEqual({ sql: 'SELECT * FROM "CRM"."CUSTOMERS" t WHERE 1 = 0', binds: {} });
      expect(oracle12cDialect.ping).toBe('SELECT 1 FROM DUAL');
    });
  });

  describe('11g: ROWNUM outside the ordered query', () => {
    it('first page', () => {
      expect(pageQuery(oracle11gDialect, customers, null, 500)).toEqual({
        sql: 'SELECT * FROM (SELECT * FROM "CRM"."CUSTOMERS" t ORDER BY t."UPDATED_AT", t."CRM_ID") WHERE ROWNUM <= :page_size',
        binds: { page_size: 500 },
      });
    });

    it('after a checkpoint', () => {
      expect(pageQuery(oracle11gDialect, customers, { cursor: AT, key: 'C1000123' }, 500)).toEqual({
        sql:
          'SELECT * FROM (SELECT * FROM "CRM"."CUSTOMERS" t WHERE (t."UPDATED_AT" > :after_cursor OR (t."UPDATED_AT" = :after_cursor AND t."CRM_ID" > :after_key))' +
          ' ORDER BY t."UPDATED_AT", t."CRM_ID") WHERE ROWNUM <= :page_size',
        binds: { after_cursor: AT, after_key: 'C1000123', page_size: 500 },
      });
    });

    it('a declared query', () => {
      expect(pageQuery(oracle11gDialect, vip, null, 50)).toEqual({
        sql: 'SELECT * FROM (SELECT * FROM (SELECT CRM_ID, NAME, UPDATED_AT FROM CRM.CUSTOMERS WHERE VIP_LEVEL >= 3) t ORDER BY t."UPDATED_AT", t."CRM_ID") WHERE ROWNUM <= :page_size',
        binds: { page_size: 50 },
      });
    });
  });

  describe('lookups', () => {
    it('keeps :name parameters as Oracle binds, bound by name', () => {
      const prepared = prepareLookup(oracle12cDialect, 'SELECT * FROM CRM.CUSTOMERS WHERE CRM_ID = :crm_id OR MOBILE = :mobile;');
      expect(prepared).toEqual({ sql: 'SELECT * FROM CRM.CUSTOMERS WHERE CRM_ID = :crm_id OR MOBILE = :mobile', names: ['crm_id', 'mobile'] });
      expect(lookupBinds(oracle12cDialect, prepared, { crm_id: "' OR 1=1 --", mobile: null })).toEqual({ crm_id: "' OR 1=1 --", mobile: null });
    });

    it.each([
      ["WHERE a = ':not_a_param' AND b = :b", "WHERE a = ':not_a_param' AND b = $1", ['b']],
      ['WHERE "A:B" = :x -- :comment\nAND y = :x', 'WHERE "A:B" = $1 -- :comment\nAND y = $1', ['x']],
      ['WHERE d::date = :d /* :no */', 'WHERE d::date = $1 /* :no */', ['d']],
      ["WHERE s = $q$ :no $q$ AND e = E'\\':no' AND k = :k", "WHERE s = $q$ :no $q$ AND e = E'\\':no' AND k = $1", ['k']],
      ["WHERE v$x = :a AND t = 'it''s :no'", "WHERE v$x = $1 AND t = 'it''s :no'", ['a']],
    ])('finds parameters outside literals and comments: %s', (sql, rewritten, names) => {
      expect(rewriteNamedParams(sql, (_n, i) => `$${i + 1}`)).toEqual({ sql: rewritten, names });
    });

    it('refuses object params, a missing param and an undeclared :param, before any connection', async () => {
      const config = oracleSpec.config.parse({
        type: 'oracle',
        url: 'oracle://crm:pw@127.0.0.1:1/NOWHERE',
        streams: {},
        lookups: { customer: { query: 'SELECT * FROM CRM.CUSTOMERS WHERE CRM_ID = :crm_id', params: ['crm_id'] } },
      });
      const c = createConnector('crm_oracle', config, { log: silentLogger });
      await expect(c.lookup('customer', { crm_id: { $gt: '' } })).rejects.toMatchObject({ code: 'CONN_UNSAFE_PARAM' });
      await expect(c.lookup('customer', { crm_id: ['C1'] })).rejects.toMatchObject({ code: 'CONN_UNSAFE_PARAM' });
      await expect(c.lookup('customer', {})).rejects.toMatchObject({ code: 'CONN_UNKNOWN_LOOKUP' });
      await c.close();
      const undeclared = { ...config, lookups: { customer: { ...config.lookups.customer!, params: [] } } };
      expect(() => createConnector('crm_oracle', undeclared, { log: silentLogger })).toThrow(expect.objectContaining({ code: 'CFG_INVALID_VALUE' }));
    });
  });

  describe('identifiers', () => {
    it('refuses unsafe table and column names in config and in the factory', () => {
      const base = { type: 'oracle', url: 'oracle://crm:pw@db:1521/CRM' };
      const bad = oracleSpec.config.safeParse({ ...base, streams: { c: { table: 'CRM.CUSTOMERS; DROP TABLE x', key: 'CRM_ID' } } });
      expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['streams.c.table']);
      const ok = oracleSpec.config.parse({ ...base, streams: { c: { table: 'CRM.CUSTOMERS', key: 'CRM_ID' } } });
      for (const stream of [{ table: 'CRM.CUSTOMERS; DROP TABLE x' }, { key: 'CRM_ID" --' }, { cursor: ['UPDATED_AT', 'CRM_ID DESC'] }, { cursor: 'CRM_ID' }]) {
        const config = { ...ok, streams: { c: { ...ok.streams.c!, ...stream } } } as typeof ok;
        expect(() => createConnector('crm_oracle', config, { log: silentLogger })).toThrow(expect.objectContaining({ code: 'CFG_INVALID_VALUE' }));
      }
    });
  });

  describe('type conversion of values shaped as oracledb returns them', () => {
    const handler = oracleFetchTypeHandler(oracledb, 'Asia/Shanghai');
    const meta = (dbTypeName: string, precision?: number, scale?: number) => ({ name: 'X', dbTypeName, precision, scale });

    it('fetches exact NUMBERs and CLOBs as strings, BLOBs as buffers, small integers as numbers', () => {
      expect(handler(meta('NUMBER', 1, 0))).toBeUndefined();
      expect(handler(meta('NUMBER', 15, 0))).toBeUndefined();
      expect(handler(meta('NUMBER', 16, 0))).toEqual({ type: oracledb.STRING });
      expect(handler(meta('NUMBER', 12, 2))).toEqual({ type: oracledb.STRING });
      expect(handler(meta('NUMBER', 0, -127))).toEqual({ type: oracledb.STRING });
      expect(handler(meta('CLOB'))).toEqual({ type: oracledb.STRING });
      expect(handler(meta('NCLOB'))).toEqual({ type: oracledb.STRING });
      expect(handler(meta('BLOB'))).toEqual({ type: oracledb.BUFFER });
      expect(handler(meta('VARCHAR2'))).toBeUndefined();
      expect(handler(meta('TIMESTAMP WITH TIME ZONE'))).toBeUndefined();
    });

    it('turns DATE and TIMESTAMP (a local-time Date) into the wall clock with the zone offset', () => {
      const convert = handler(meta('DATE'))!.converter!;
      // oracledb builds DATE values with the local-time Date constructor
      expect(convert(new Date(2026, 0, 1, 8, 30, 15))).toBe('2026-01-01T08:30:15.000+08:00');
      expect(handler(meta('TIMESTAMP'))!.converter!(new Date(2026, 6, 1, 23, 59, 59, 123))).toBe('2026-07-01T23:59:59.123+08:00');
      expect(convert(null)).toBeNull();
      expect(oracleWallClockToIso(new Date(2026, 6, 1, 12, 0, 0), 'Europe/Berlin')).toBe('2026-07-01T12:00:00.000+02:00');
      expect(oracleWallClockToIso(new Date(2026, 0, 1, 12, 0, 0), 'UTC')).toBe('2026-01-01T12:00:00.000Z');
    });

    it('gives a plain JSON record: TIMESTAMP WITH TIME ZONE in UTC, BLOB base64, exact strings kept', () => {
      const row = {
        CRM_ID: 'C1000123',
        NAME: '王小明',
        VIP_LEVEL: 3,
        BALANCE: '12345678901234567890.12',
        UPDATED_AT: new Date('2026-01-01T08:00:00.123+08:00'),
        NOTES: 'a CLOB fetched as string',
        PHOTO: Buffer.from([0, 255, 16]),
        CREATED: handler(meta('DATE'))!.converter!(new Date(2025, 11, 31, 23, 0, 0)),
        EMAIL: null,
      };
      expect(toRecord(row)).toEqual({
        CRM_ID: 'C1000123',
        NAME: '王小明',
        VIP_LEVEL: 3,
        BALANCE: '12345678901234567890.12',
        UPDATED_AT: '2026-01-01T00:00:00.123Z',
        NOTES: 'a CLOB fetched as string',
        PHOTO: 'AP8Q',
        CREATED: '2025-12-31T23:00:00.000+08:00',
        EMAIL: null,
      });
    });

    it('describes columns with field types', () => {
      expect(
        [
          { name: 'CRM_ID', dbTypeName: 'VARCHAR2', nullable: false },
          { name: 'VIP_LEVEL', dbTypeName: 'NUMBER', precision: 1, scale: 0, nullable: false },
          { name: 'BALANCE', dbTypeName: 'NUMBER', precision: 12, scale: 2, nullable: true },
          { name: 'UPDATED_AT', dbTypeName: 'TIMESTAMP WITH TIME ZONE', nullable: false },
          { name: 'CREATED', dbTypeName: 'DATE', nullable: true },
          { name: 'PHOTO', dbTypeName: 'BLOB', nullable: true },
        ].map(oracleColumn),
      ).toEqual([
        { name: 'CRM_ID', type: 'string', nullable: false, dbType: 'VARCHAR2' },
        { name: 'VIP_LEVEL', type: 'integer', nullable: false, dbType: 'NUMBER' },
        { name: 'BALANCE', type: 'number', nullable: true, dbType: 'NUMBER' },
        { name: 'UPDATED_AT', type: 'datetime', nullable: false, dbType: 'TIMESTAMP WITH TIME ZONE' },
        { name: 'CREATED', type: 'datetime', nullable: true, dbType: 'DATE' },
        { name: 'PHOTO', type: 'binary', nullable: true, dbType: 'BLOB' },
      ]);
    });

    it('binds checkpoint values back in the column type: instants as TIMESTAMP WITH TIME ZONE, wall clocks as DATE', () => {
      const col = (dbType: string): ColumnInfo => ({ name: 'C', type: 'datetime', nullable: false, dbType });
      expect(oracleBindValue('2026-01-01T00:00:00.123Z', col('TIMESTAMP WITH TIME ZONE'), 'Asia/Shanghai', oracledb)).toEqual({
        val: new Date('2026-01-01T00:00:00.123Z'),
        type: oracledb.DB_TYPE_TIMESTAMP_TZ,
      });
      const date = oracleBindValue('2026-01-01T08:30:15.000+08:00', col('DATE'), 'Asia/Shanghai', oracledb) as { val: Date; type: unknown };
      expect(date.type).toBe(oracledb.DB_TYPE_DATE);
      // the wall clock is in the Date's local fields, as oracledb reads them for DATE binds
      expect([date.val.getFullYear(), date.val.getMonth(), date.val.getDate(), date.val.getHours(), date.val.getMinutes(), date.val.getSeconds()]).toEqual([2026, 0, 1, 8, 30, 15]);
      expect(oracleWallClockToIso(date.val, 'Asia/Shanghai')).toBe('2026-01-01T08:30:15.000+08:00');
      // an instant given in another offset lands on the same wall clock in the source's zone
      const fromUtc = oracleBindValue('2026-01-01T00:30:15Z', col('TIMESTAMP'), 'Asia/Shanghai', oracledb) as { val: Date; type: unknown };
      expect(fromUtc.type).toBe(oracledb.DB_TYPE_TIMESTAMP);
      expect(oracleWallClockToIso(fromUtc.val, 'Asia/Shanghai')).toBe('2026-01-01T08:30:15.000+08:00');
      expect(oracleBindValue('C1000123', { ...col('VARCHAR2'), type: 'string' }, 'UTC', oracledb)).toBe('C1000123');
      expect(oracleBindValue('12345678901234567890', { ...col('NUMBER'), type: 'number' }, 'UTC', oracledb)).toBe('12345678901234567890');
      expect(() => oracleBindValue('yesterday', col('DATE'), 'UTC', oracledb)).toThrow(expect.objectContaining({ code: 'CONN_CURSOR' }));
    });

    it('binds a wall clock the connector emitted inside a DST gap back as written, not an hour early', () => {
      const col: ColumnInfo = { name: 'C', type: 'datetime', nullable: false, dbType: 'DATE' };
      // Europe/Berlin jumps from 02:00 to 03:00 on 2027-03-28: a DATE of 02:30 is emitted with +02:00.
      const gap = oracleBindValue('2027-03-28T02:30:00.000+02:00', col, 'Europe/Berlin', oracledb) as { val: Date };
      expect([gap.val.getHours(), gap.val.getMinutes()]).toEqual([2, 30]);
      // A time without an offset is the wall clock written; one in another offset, that instant's wall clock there.
      const plain = oracleBindValue('2027-03-28T01:15:00', col, 'Europe/Berlin', oracledb) as { val: Date };
      expect([plain.val.getHours(), plain.val.getMinutes()]).toEqual([1, 15]);
      const utc = oracleBindValue('2027-01-10T07:00:00.250Z', col, 'Europe/Berlin', oracledb) as { val: Date };
      expect([utc.val.getHours(), utc.val.getMinutes(), utc.val.getMilliseconds()]).toEqual([8, 0, 250]);
    });
  });

  describe('ORA- and NJS- error classification', () => {
    const oraErr = (code: string, text: string) => Object.assign(new Error(`${code}: ${text}\nHelp: https://docs.oracle.com/error-help/db/${code.toLowerCase()}/`), { code, errorNum: Number(code.slice(4)) });
    it.each([
      ['ORA-03113', 'end-of-file on communication channel', 'CONN_UNREACHABLE', true],
      ['ORA-03114', 'not connected to ORACLE', 'CONN_UNREACHABLE', true],
      ['ORA-12541', 'Cannot connect. No listener at host db port 1521.', 'CONN_UNREACHABLE', true],
      ['ORA-12514', 'Cannot connect to database. Service CRMPDB is not registered with the listener', 'CONN_UNREACHABLE', true],
      ['ORA-12170', 'Cannot connect. TCP connect timeout of 10s', 'CONN_TIMEOUT', true],
      ['ORA-01013', 'user requested cancel of current operation', 'CONN_TIMEOUT', true],
      ['ORA-00060', 'deadlock detected while waiting for resource', 'CONN_QUERY_FAILED', true],
      ['ORA-01017', 'invalid credential or not authorized; logon denied', 'CONN_AUTH_FAILED', false],
      ['ORA-00942', 'table or view "CRM"."CUSTOMERS" does not exist', 'CONN_PERMISSION', false],
      ['ORA-01031', 'insufficient privileges', 'CONN_PERMISSION', false],
      ['ORA-00904', '"UPDATED": invalid identifier', 'CONN_QUERY_FAILED', false],
      ['ORA-00933', 'SQL command not properly ended', 'CONN_QUERY_FAILED', false],
    ])('%s (%s) is %s, retryable %s, keeping the ORA code', (code, text, expected, retryable) => {
      const err = oracleError(oraErr(code, text), 'crm_oracle');
      expect(err).toMatchObject({ code: expected, retryable, where: { source: 'crm_oracle' }, details: { oraCode: code, errorNum: Number(code.slice(4)) } });
      expect(err.message).toBe(`crm_oracle: ${code}: ${text}`);
    });

    it.each([
      ['NJS-500', 'connection to Oracle Database was closed or broken', 'CONN_UNREACHABLE'],
      ['NJS-503', 'connection to host db port 1521 could not be established. (CONNECTION_ID=x)', 'CONN_UNREACHABLE'],
      ['NJS-123', 'call timeout of 800 ms exceeded', 'CONN_TIMEOUT'],
      ['NJS-510', 'connection to host db port 1521 timed out.', 'CONN_TIMEOUT'],
    ])('%s is %s and retryable', (code, text, expected) => {
      expect(oracleError(Object.assign(new Error(`${code}: ${text}`), { code }), 'crm_oracle')).toMatchObject({ code: expected, retryable: true, details: { oraCode: code } });
    });

    it('a break we asked for is CONN_ABORTED; unknown errors are CONN_QUERY_FAILED, not retryable', () => {
      expect(oracleError(oraErr('ORA-01013', 'user requested cancel'), 'crm_oracle', true)).toMatchObject({ code: 'CONN_ABORTED' });
      expect(oracleError(oraErr('ORA-01722', 'invalid number'), 'crm_oracle')).toMatchObject({ code: 'CONN_QUERY_FAILED', retryable: false, details: { oraCode: 'ORA-01722' } });
      expect(oracleError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:1521'), { code: 'ECONNREFUSED' }), 'crm_oracle')).toMatchObject({ code: 'CONN_UNREACHABLE', retryable: true });
      // every retryable entry of the table is a transient kind
      for (const [code, cls] of Object.entries(ORACLE_ERRORS)) {
        if (cls.retryable) expect(['CONN_UNREACHABLE', 'CONN_TIMEOUT', 'CONN_QUERY_FAILED'], code).toContain(cls.code);
        else expect(['CONN_AUTH_FAILED', 'CONN_PERMISSION', 'CONN_QUERY_FAILED'], code).toContain(cls.code);
      }
    });
  });

  describe('connection URL', () => {
    it('splits oracle://user:password@host:port/service into Thin-mode parameters', () => {
      expect(oracleConnectParams('oracle://crm:s%40cret@db.example:1521/CRMPDB')).toEqual({ user: 'crm', password: 's@cret', connectString: 'db.example:1521/CRMPDB' });
      expect(oracleConnectParams('oracle://crm@db.example/CRMPDB?connect_timeout=5', undefined, 'pw')).toEqual({
        user: 'crm',
        password: 'pw',
        connectString: 'db.example:1521/CRMPDB?connect_timeout=5',
      });
      expect(oracleConnectParams('oracle://db.example:1522/CRMPDB', 'reader', 'x')).toMatchObject({ user: 'reader', connectString: 'db.example:1522/CRMPDB' });
    });

    it('refuses a URL without service or user, without echoing the password', () => {
      for (const url of ['oracle://crm:hunter2@db.example:1521', 'oracle://:hunter2@db.example/CRM']) {
        let err: unknown;
        try {
          oracleConnectParams(url);
        } catch (e) {
          err = e;
        }
        expect(err).toMatchObject({ code: expect.stringMatching(/^CFG_(INVALID_VALUE|MISSING_KEY)$/) });
        expect((err as Error).message).not.toContain('hunter2');
      }
    });

    it('refuses a % that is no escape (a password like 50%off) with CFG_INVALID_VALUE, and an unparsable URL, without the password anywhere in the error', () => {
      for (const [url, part] of [['oracle://crm:50%off-hunter2@db.example/CRM', 'password'], ['oracle://crm%zz:hunter2@db.example/CRM', 'user'], ['oracle://crm:hunter2@db example/CRM', null]] as const) {
        let err: unknown;
        try {
          oracleConnectParams(url, undefined, undefined, 'crm_oracle');
        } catch (e) {
          err = e;
        }
        expect(err).toMatchObject({ code: 'CFG_INVALID_VALUE', where: { source: 'crm_oracle' } });
        if (part) expect((err as Error).message).toContain(`url's ${part} holds a %`);
        // Nowhere: not in the message, nor in a cause a log would serialize.
        expect(JSON.stringify(err, Object.getOwnPropertyNames(err)) + JSON.stringify((err as Error).cause ?? null)).not.toContain('hunter2');
      }
    });
  });

  describe('the page sequence over a scripted driver (no database)', () => {
    it('binds each page after the previous checkpoint, the cursor as a typed timestamp', async () => {
      const columns: ColumnInfo[] = [
        { name: 'CRM_ID', type: 'string', nullable: false, dbType: 'VARCHAR2' },
        { name: 'UPDATED_AT', type: 'datetime', nullable: false, dbType: 'TIMESTAMP WITH TIME ZONE' },
      ];
      const pages = [
        [{ CRM_ID: 'C1', UPDATED_AT: AT }, { CRM_ID: 'C2', UPDATED_AT: AT }],
        [{ CRM_ID: 'C3', UPDATED_AT: AT }],
      ];
      const sent: { sql: string; binds: unknown }[] = [];
      const driver: SqlDriver = {
        query: async (statement) => {
          sent.push(statement);
          return { rows: statement.sql.includes('1 = 0') ? [] : (pages.shift() ?? []), columns };
        },
        describe: async (statement) => {
          sent.push(statement);
          return columns;
        },
        bindValue: (value, column) => oracleBindValue(value, column, 'UTC', oracledb),
        close: async () => undefined,
      };
      const config = { streams: { customers: { table: 'CRM.CUSTOMERS', cursor: ['UPDATED_AT', 'CRM_ID'] as [string, string], key: 'CRM_ID', batch_size: 2, statement_timeout_ms: 1000 } }, lookups: {} };
      const c = createSqlConnector({ source: 'crm_oracle', type: 'oracle', dialect: oracle11gDialect, driver, config, log: silentLogger });
      const batches: Batch[] = [];
      for await (const b of c.read('customers', null)) batches.push(b);
      expect(batches.map((b) => b.checkpoint)).toEqual([
        { cursor: AT, key: 'C2' },
        { cursor: AT, key: 'C3' },
      ]);
      expect(sent.map((s) => s.binds)).toEqual([
        { page_size: 2 },
        {}, // the describe probe that tells bindValue the cursor column's type
        { after_cursor: { val: new Date(AT), type: oracledb.DB_TYPE_TIMESTAMP_TZ }, after_key: 'C2', page_size: 2 },
      ]);
      expect(sent[2]!.sql).toBe(pageQuery(oracle11gDialect, customers, { cursor: 'x', key: 'y' }, 2).sql);
    });
  });

  describe('registration and Thin mode against a closed port (no live Oracle)', () => {
    it('createConnector builds an oracle connector whose check() reports CONN_UNREACHABLE', async () => {
      const config = oracleSpec.config.parse({ type: 'oracle', url: 'oracle://crm:pw@127.0.0.1:1/CRMPDB', streams: { customers: { table: 'CRM.CUSTOMERS', key: 'CRM_ID' } } });
      const c = createConnector('crm_oracle', config, { log: silentLogger });
      expect(c.type).toBe('oracle');
      const result = await c.check();
      expect(result).toMatchObject({ ok: false, code: 'CONN_UNREACHABLE' });
      expect(result.detail).not.toContain(':pw@');
      expect(oracledb.thin).toBe(true);
      await c.close();
    });
  });
});
