/** Cursor values as typed on the command line (`read --since`, `sync --from/--to`). */
import { describe, expect, it } from 'vitest';
import { cursorKind, cursorTime, isIsoWithOffset } from '../../connectors/cursor-value.js';

describe('cursorKind', () => {
  it.each([
    ['12', 'number'],
    ['-3.25', 'number'],
    ['2026-01-01', 'time'],
    ['2024-02-29', 'time'],
    ['2026-01-01 08:00:00', 'time'],
    ['2026-01-01T08:00', 'time'],
    ['2026-01-01T08:00:00.123456Z', 'time'],
    ['2026-01-01T08:00:00+08', 'time'],
    ['2026-01-01T08:00:00+0800', 'time'],
    ['garbage', null],
    ['', null],
    ['2026-02-30', null],
    ['2026-13-01', null],
    ['2026-01-01T25:00', null],
    ['2026-W01', null],
    ['1e3', null],
  ] as const)('%j is %s', (text, kind) => {
    expect(cursorKind(text)).toBe(kind);
  });

  it('reads a time without an offset as UTC, whatever the machine zone', () => {
    expect(cursorTime('2026-01-01')).toBe(Date.UTC(2026, 0, 1));
    expect(cursorTime('2026-01-01 08:00:00')).toBe(Date.UTC(2026, 0, 1, 8));
    expect(cursorTime('2026-01-01T08:00:00+08')).toBe(Date.UTC(2026, 0, 1));
  });
});

describe('isIsoWithOffset', () => {
  it.each([
    ['2026-01-31T08:00:00.000Z', true],
    ['2026-01-31t08:00:00z', true],
    ['2026-01-31T08:00:00.123456+08:00', true],
    ['2026-01-31T08:00+0800', true],
    ['2026-01-31T08:00:00-03:30', true],
    ['2026-01-31', false],
    ['2026-01-31T08:00:00', false],
    ['2026-01-31 08:00:00Z', false],
    ['2026-01-31T08:00:00+08', false],
    ['Zulu', false],
    ['order-31', false],
  ] as const)('%j: %s', (text, expected) => {
    expect(isIsoWithOffset(text)).toBe(expected);
  });
});
