/**
 * `junction read --since / --after`: checked once, with CONN_CURSOR naming the option, before
 * any connector sees them (they used to fail differently on every source, or not at all).
 */
import { describe, expect, it } from 'vitest';
import { isJunctionError } from '../../config/errors.js';
import { startingPoint } from '../../bin/commands/read.js';
import { runCli } from '../helpers/cli.js';

function refusal(opts: { since?: string; after?: string }): string {
  try {
    startingPoint(opts);
  } catch (err) {
    if (isJunctionError(err)) return `${err.message} [${err.code}]`;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(opts)}`);
}

describe('junction read: where reading starts', () => {
  it.each([
    [{}, null],
    [{ since: '2026-01-01' }, { cursor: '2026-01-01', key: null }],
    [{ since: '2026-01-01T08:00:00+08:00' }, { cursor: '2026-01-01T08:00:00+08:00', key: null }],
    [{ since: '2026-01-01 08:00:00' }, { cursor: '2026-01-01 08:00:00', key: null }],
    [{ since: '1200' }, { cursor: '1200', key: null }],
    [{ after: '{"cursor":"2026-01-01T00:00:00.000Z","key":"10052"}' }, { cursor: '2026-01-01T00:00:00.000Z', key: '10052' }],
    [{ after: '{"cursor":12,"key":null}' }, { cursor: 12, key: null }],
  ])('%j starts at %j', (opts, expected) => {
    expect(startingPoint(opts)).toEqual(expected);
  });

  it.each([
    [{ since: 'garbage' }, /^--since "garbage" is not a cursor value: expected an ISO-8601 date or date-time .* or a number \[CONN_CURSOR\]$/],
    [{ since: '2026-02-30' }, /^--since "2026-02-30" is not a cursor value/],
    [{ since: '2026-01-01T25:00' }, /^--since "2026-01-01T25:00" is not a cursor value/],
    [{ after: 'garbage' }, /^--after is not JSON \(.*\): expected a checkpoint as read prints it, \{"cursor":…,"key":…\} \[CONN_CURSOR\]$/],
    [{ after: '5' }, /^--after 5 is not a checkpoint/],
    [{ after: '[1, 2]' }, /^--after \[1, 2\] is not a checkpoint/],
    [{ after: '{"cursor":{"$gt":""},"key":null}' }, /is not a checkpoint: expected .* strings, numbers or null \[CONN_CURSOR\]$/],
    [{ after: '{"cursor":"x","key":"1","extra":1}' }, /is not a checkpoint/],
    [{ after: '{"cursor":"2025-01-01","key":"x\\u0000"}' }, /holds U\+0000, which no cursor or key can hold \[CONN_CURSOR\]$/],
  ])('%j is refused', (opts, message) => {
    expect(refusal(opts)).toMatch(message);
  });

  it('refuses a bad --since from the command line before reading (MongoDB used to answer with nothing)', async () => {
    const r = await runCli(['read', 'app_mongo.users', '--since', 'garbage', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'CONN_CURSOR', message: expect.stringMatching(/^--since "garbage" is not a cursor value/) } });
    expect(r.stderr).toMatch(/--since "garbage" is not a cursor value.*\[CONN_CURSOR\]/);
  });
});
