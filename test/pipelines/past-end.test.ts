/** Where a backfill stops: `pastEnd` compares a batch's last cursor value with `--to`. */
import { describe, expect, it } from 'vitest';
import { pastEnd } from '../../connectors/cursor-value.js';

describe('pastEnd', () => {
  it.each([
    // int8 cursors arrive as text from the PostgreSQL connector: numbers, not dates.
    ['"12" is before "100"', '12', '100', false],
    ['"99" is before "100"', '99', '100', false],
    ['"999999" is before "1000000"', '999999', '1000000', false],
    ['"101" is after "100"', '101', '100', true],
    ['beyond 2^53, exactly', '9007199254740993', '9007199254740992', true],
    ['a number cursor', 7, '10', false],
    ['decimals', '10.5', '10.25', true],
    ['instants across offsets', '2026-01-01T01:00:00+08:00', '2025-12-31T18:00:00Z', false],
    ['a date-time after a date', '2026-01-02T00:00:01Z', '2026-01-02', true],
    // `+08` without minutes: Date.parse refuses it, and the text comparison got it backwards.
    ['an offset without minutes', '2025-01-01T07:00:00+08', '2025-01-01T00:30:00Z', false],
    ['text', 'b', 'a', true],
    ['no cursor', null, '1', false],
  ] as const)('%s', (_name, cursor, to, expected) => {
    expect(pastEnd({ cursor, key: null }, to)).toBe(expected);
  });
});
