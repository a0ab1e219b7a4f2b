/** Raw failures of the hub's services become coded errors that say what to do, without passwords. */
import { ClickHouseError } from '@clickhouse/client';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { stackSettings } from '../../config/env.js';
import { serviceError } from '../../bin/service-errors.js';

const settings = stackSettings({
  JUNCTION_PG_URL: 'postgres://junction:PgSecret1@db.example:6543/hub',
  JUNCTION_REDIS_URL: 'redis://:RedisSecret1@127.0.0.1:16380',
  JUNCTION_CLICKHOUSE_URL: 'http://default:ChSecret1@ch.example:8123',
});

function socketError(message: string, code: string, port?: number): Error {
  return Object.assign(new Error(message), { code, syscall: 'connect', ...(port ? { address: '127.0.0.1', port } : {}) });
}

function sqlError(message: string, code: string): pg.DatabaseError {
  return Object.assign(new pg.DatabaseError(message, message.length, 'error'), { code, severity: 'ERROR' });
}

const refusedLocalhost = Object.assign(
  new AggregateError([socketError('connect ECONNREFUSED ::1:16380', 'ECONNREFUSED', 16380), socketError('connect ECONNREFUSED 127.0.0.1:16380', 'ECONNREFUSED', 16380)]),
  { code: 'ECONNREFUSED' },
);

describe('serviceError', () => {
  it.each([
    ['PostgreSQL refusing connections', socketError('connect ECONNREFUSED 10.0.0.5:6543', 'ECONNREFUSED', 6543), 'STACK_NOT_RUNNING', /^PostgreSQL at postgres:\/\/junction:\*\*\*@db\.example:6543\/hub does not answer \(connect ECONNREFUSED 10\.0\.0\.5:6543\).*JUNCTION_PG_URL$/],
    ['a refused localhost (IPv4 and IPv6)', refusedLocalhost, 'STACK_NOT_RUNNING', /^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:16380 does not answer \(connect ECONNREFUSED ::1:16380; .*JUNCTION_REDIS_URL$/],
    ['ClickHouse on the default port of its scheme', socketError('connect ECONNREFUSED 10.0.0.6:8123', 'ECONNREFUSED', 8123), 'STACK_NOT_RUNNING', /^ClickHouse at http:\/\/default:\*\*\*@ch\.example:8123/],
    ['a port no service uses', socketError('getaddrinfo ENOTFOUND elsewhere', 'ENOTFOUND'), 'STACK_NOT_RUNNING', /^a service does not answer \(getaddrinfo ENOTFOUND elsewhere\): junction stack status shows which$/],
    ["pg's connection timeout", new Error('Connection terminated due to connection timeout'), 'STACK_NOT_RUNNING', /^PostgreSQL at .* does not answer \(Connection terminated due to connection timeout\)/],
    ["ioredis' closed connection", new Error('Connection is closed.'), 'STACK_NOT_RUNNING', /^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:16380 does not answer/],
    ['an undefined table', sqlError('relation "hub.dead_letter" does not exist', '42P01'), 'MIG_PENDING', /relation "hub\.dead_letter" does not exist \(SQLSTATE 42P01\); run junction migrate$/],
    ['an undefined schema', sqlError('schema "unified" does not exist', '3F000'), 'MIG_PENDING', /run junction migrate$/],
    ['a wrong password', sqlError('password authentication failed for user "junction"', '28P01'), 'STACK_AUTH_FAILED', /^PostgreSQL at postgres:\/\/junction:\*\*\*@db\.example:6543\/hub refused the credentials: password authentication failed .*JUNCTION_PG_URL$/],
    ['a missing database', sqlError('database "hub" does not exist', '3D000'), 'STACK_NOT_RUNNING', /database "hub" does not exist \(SQLSTATE 3D000\): junction stack up creates/],
    ["ClickHouse 18.16's missing table", new Error("Code: 60, e.displayText() = DB::Exception: Table junction.chat_event doesn't exist., e.what() = DB::Exception\n"), 'MIG_PENDING', /Table junction\.chat_event doesn't exist\. \(ClickHouse code 60\); run junction migrate$/],
    ["a current ClickHouse's unknown user", new ClickHouseError({ message: 'default: Authentication failed. ', code: '516', type: 'AUTHENTICATION_FAILED' }), 'STACK_AUTH_FAILED', /^ClickHouse at http:\/\/default:\*\*\*@ch\.example:8123 refused the credentials: default: Authentication failed\. \(ClickHouse code 516\)/],
    ['a cause two levels down', new Error('batch failed', { cause: new Error('insert failed', { cause: sqlError('relation "hub.sync_run" does not exist', '42P01') }) }), 'MIG_PENDING', /hub\.sync_run/],
  ])('%s', (_what, err, code, message) => {
    const coded = serviceError(err, settings);
    expect(coded?.code).toBe(code);
    expect(coded?.message).toMatch(message);
    expect(coded?.message).not.toMatch(/Secret1/);
  });

  it.each([
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a constraint violation', sqlError('duplicate key value violates unique constraint "agent_email_key"', '23505')],
    ['a ClickHouse syntax error', new Error('Code: 62, e.displayText() = DB::Exception: Syntax error, e.what() = DB::Exception')],
    ['not an error', 'oops'],
  ])('leaves %s alone', (_what, err) => {
    expect(serviceError(err, settings)).toBeUndefined();
  });

  it('never repeats a password that the driver put in its message', () => {
    for (const text of ['connect ECONNREFUSED for redis://:RedisSecret1@127.0.0.1:16380', 'connect ECONNREFUSED (AUTH RedisSecret1)']) {
      expect(serviceError(socketError(text, 'ECONNREFUSED', 16380), settings)?.message).not.toContain('RedisSecret1');
    }
  });
});
