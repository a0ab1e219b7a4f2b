/**
 * How the Oracle driver (connectors/oracle.ts) hands a connection back after a statement,
 * with `oracledb` replaced by a scripted pool (Oracle mocked: no server can run here): the
 * read-only transaction is rolled back under a bounded callTimeout, and the connection is
 * always closed, dropped from the pool when the rollback failed or the session is suspect.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../config/log.js';
import { createOracleDriver } from '../../connectors/oracle.js';

interface Script {
  /** Replaces the statement's result; throwing fails it. */
  execute?: () => Promise<unknown>;
  rollback?: () => Promise<void>;
  close?: () => Promise<void>;
}

const fake = vi.hoisted(() => {
  /** A connection that records what the driver did with it. */
  class FakeConnection {
    callTimeout = 0;
    /** callTimeout when rollback() and close() were called (undefined: never called). */
    rollbackTimeout: number | undefined;
    closeTimeout: number | undefined;
    closed: unknown[] = [];
    constructor(private readonly script: Script) {}
    async execute(sql: string) {
      if (sql === 'SET TRANSACTION READ ONLY') return {};
      if (this.script.execute) return this.script.execute();
      return { rows: [{ N: 1 }], metaData: [{ name: 'N', dbTypeName: 'NUMBER', precision: 5, scale: 0, nullable: false }] };
    }
    async rollback() {
      this.rollbackTimeout = this.callTimeout;
      await this.script.rollback?.();
    }
    async close(options: unknown) {
      this.closeTimeout = this.callTimeout;
      this.closed.push(options);
      await this.script.close?.();
    }
    async break() {}
  }
  const state = { script: {} as Script, connections: [] as FakeConnection[] };
  const oracledb = {
    thin: true,
    OUT_FORMAT_OBJECT: 4002,
    STRING: 'STRING',
    BUFFER: 'BUFFER',
    DB_TYPE_DATE: 'DATE',
    DB_TYPE_TIMESTAMP: 'TIMESTAMP',
    DB_TYPE_TIMESTAMP_TZ: 'TIMESTAMP_TZ',
    DB_TYPE_TIMESTAMP_LTZ: 'TIMESTAMP_LTZ',
    createPool: async () => ({
      getConnection: async () => {
        const conn = new FakeConnection(state.script);
        state.connections.push(conn);
        return conn;
      },
      close: async () => undefined,
    }),
  };
  return { state, oracledb };
});

vi.mock('oracledb', () => ({ default: fake.oracledb }));

const STATEMENT_TIMEOUT_MS = 60_000;

function driver() {
  const warnings: string[] = [];
  const log = { warn: (_obj: unknown, msg: string) => warnings.push(msg) } as unknown as Logger;
  const d = createOracleDriver({ source: 'crm_oracle', connect: { user: 'u', password: 'p', connectString: 'db:1521/CRM' }, maxConnections: 1, timezone: 'UTC', log });
  const query = () => d.query({ sql: 'SELECT 1 AS N FROM DUAL', binds: {} }, { timeoutMs: STATEMENT_TIMEOUT_MS });
  return { query, warnings };
}

const oraError = (code: string, text: string) => Object.assign(new Error(`${code}: ${text}`), { code });

beforeEach(() => {
  fake.state.script = {};
  fake.state.connections = [];
});

describe('Oracle connection release (Oracle mocked: no server here)', () => {
  it('after a read: the rollback has a deadline (not callTimeout 0, no deadline at all), then the connection goes back to the pool', async () => {
    const { query } = driver();
    expect((await query()).rows).toEqual([{ N: 1 }]);
    const [conn] = fake.state.connections;
    expect(conn!.rollbackTimeout).toBeGreaterThan(0);
    expect(conn!.rollbackTimeout).toBeLessThanOrEqual(5_000);
    expect(conn!.closed).toEqual([{ drop: false }]);
  });

  it.each([
    ['the session died after the read', oraError('NJS-500', 'connection to the Oracle Database was broken')],
    ['the rollback exceeded its callTimeout', oraError('NJS-123', 'call timeout of 5000 ms exceeded')],
  ])('a rollback that fails (%s): the read keeps its rows, the connection is dropped from the pool instead of leaking', async (_name, error) => {
    fake.state.script = { rollback: () => Promise.reject(error) };
    const { query, warnings } = driver();
    expect((await query()).rows).toEqual([{ N: 1 }]);
    expect(fake.state.connections[0]!.closed).toEqual([{ drop: true }]);
    expect(warnings).toEqual(['could not roll back an Oracle read; dropping its connection']);
  });

  it('a statement that timed out: no rollback on the suspect session, dropped under the release deadline, not the statement timeout', async () => {
    fake.state.script = { execute: () => Promise.reject(oraError('NJS-123', 'call timeout of 60000 ms exceeded')) };
    const { query } = driver();
    await expect(query()).rejects.toMatchObject({ code: 'CONN_TIMEOUT' });
    const [conn] = fake.state.connections;
    expect(conn!.rollbackTimeout).toBeUndefined();
    expect(conn!.closed).toEqual([{ drop: true }]);
    expect(conn!.closeTimeout).toBeLessThanOrEqual(5_000);
  });

  it('a close that fails is logged; the read still returns, and a failed read keeps its own error', async () => {
    fake.state.script = { close: () => Promise.reject(oraError('NJS-500', 'connection to the Oracle Database was broken')) };
    const ok = driver();
    expect((await ok.query()).rows).toEqual([{ N: 1 }]);
    expect(ok.warnings).toEqual(['could not release an Oracle connection']);
    fake.state.script = { ...fake.state.script, execute: () => Promise.reject(oraError('ORA-00942', 'table or view does not exist')) };
    await expect(driver().query()).rejects.toMatchObject({ code: 'CONN_PERMISSION' });
  });
});
