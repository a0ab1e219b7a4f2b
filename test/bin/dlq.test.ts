/** The pure parts of `junction dlq`: `--since` parsing and the table and summary it prints. */
import { InvalidArgumentError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLetterTable, formatReplaySummary, parseSince, shorten } from '../../bin/commands/dlq.js';

const NOW = new Date('2025-06-01T12:00:00Z');

describe('dlq --since', () => {
  it.each([
    ['90s', '2025-06-01T11:58:30.000Z'],
    ['15m', '2025-06-01T11:45:00.000Z'],
    ['2h', '2025-06-01T10:00:00.000Z'],
    ['7d', '2025-05-25T12:00:00.000Z'],
    ['2025-05-31T08:00:00Z', '2025-05-31T08:00:00.000Z'],
    ['2025-05-31T08:00:00+08:00', '2025-05-31T00:00:00.000Z'],
    ['2025-05-31', '2025-05-31T00:00:00.000Z'],
  ])('%s', (text, iso) => {
    expect(parseSince(text, NOW).toISOString()).toBe(iso);
  });

  it.each(['yesterday', '2h30m', '-2h', '2025-13-45', '', '12', '2025-W22-1', '2025-06-01Tnoon', '99999999999999d', '3000000d', '2025-06-01T08:00:00Z[Europe/Berlin]'])('refuses %j', (text) => {
    expect(() => parseSince(text, NOW)).toThrow(InvalidArgumentError);
  });

  // Date rolls the first two over (Feb 30 → Mar 2, Apr 31 → May 1); each is refused with the reason.
  it.each(['2025-02-30', '2025-04-31T08:00:00Z', '2025-06-01T25:00'])('refuses %j, a date or time that does not exist, saying so', (text) => {
    expect(() => parseSince(text, NOW)).toThrow(/^no such date or time \(.*\); expected an ISO-8601 time/);
  });

  describe('a time without an offset is UTC, whatever the host’s zone', () => {
    const zone = process.env.TZ;
    beforeAll(() => {
      process.env.TZ = 'Asia/Shanghai'; // Node applies a TZ set at run time to Date at once
    });
    afterAll(() => {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    });

    it.each([
      ['2025-06-01T08:00:00', '2025-06-01T08:00:00.000Z'],
      ['2025-06-01T08:00', '2025-06-01T08:00:00.000Z'],
      ['2025-06-01 08:00:00', '2025-06-01T08:00:00.000Z'],
      ['2025-06-01', '2025-06-01T00:00:00.000Z'],
      ['2025-06-01T08:00:00+08:00', '2025-06-01T00:00:00.000Z'],
    ])('%s', (text, iso) => {
      expect(new Date(2025, 5, 1, 8).toISOString()).toBe('2025-06-01T00:00:00.000Z'); // the host zone is in effect
      expect(parseSince(text, NOW).toISOString()).toBe(iso);
    });
  });
});

describe('dlq output', () => {
  it('shortens long messages to one line', () => {
    expect(shorten('a\n  b', 10)).toBe('a b');
    expect(shorten('x'.repeat(20), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  it('lists letters in aligned columns with their replay state', () => {
    const table = formatLetterTable([
      { id: 12, runId: 3, source: 'shop_pg', stream: 'accounts', sourceKey: '42', stage: 'map', errorCode: 'MAP_BAD_VALUE', errorMessage: '../../tmp/x/mappings/a.yaml:9 fields.email: x is not an email', mappingVersion: 'v', createdAt: '2025-06-01T10:00:00.123Z', replayedAt: null, replayRunId: null },
      { id: 9, runId: 3, source: 'shop_pg', stream: 'accounts', sourceKey: null, stage: 'map', errorCode: 'MAP_MISSING_KEY', errorMessage: 'no key', mappingVersion: 'v', createdAt: '2025-06-01T09:00:00.000Z', replayedAt: '2025-06-01T11:00:00.000Z', replayRunId: 7 },
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^ID\s+STREAM\s+KEY\s+STAGE\s+CODE\s+MESSAGE\s+CREATED\s+REPLAYED$/);
    expect(lines[1]).toMatch(/^12\s+shop_pg\.accounts\s+42\s+map\s+MAP_BAD_VALUE\s+a\.yaml:9 fields\.email: .*2025-06-01T10:00:00Z\s+-$/);
    expect(lines[2]).toMatch(/^9 .* - .*MAP_MISSING_KEY.*2025-06-01T11:00:00Z \(run 7\)$/);
    expect(lines[1]!.indexOf('MAP_BAD_VALUE')).toBe(lines[2]!.indexOf('MAP_MISSING_KEY'));
  });

  it('summarises a replay and points at the letters that failed again', () => {
    const text = formatReplaySummary({
      selected: 3, loaded: 1, failedAgain: 1, superseded: 1,
      streams: [{ source: 's', stream: 'x', runId: 5, selected: 3, loaded: 1, failedAgain: 1, superseded: 1 }],
    });
    expect(text).toContain('replayed 3 dead letters: 1 loaded, 1 failed again, 1 superseded');
    expect(text).toContain('s.x (run 5)');
    expect(text).toContain('junction dlq list --pending');
  });

  it('names the newer letter replayed in place of an older one asked for', () => {
    const text = formatReplaySummary({
      selected: 2, loaded: 1, failedAgain: 0, superseded: 1,
      streams: [{ source: 's', stream: 'x', runId: 5, selected: 2, loaded: 1, failedAgain: 0, superseded: 1, replacedBy: [{ id: 11, by: 12 }] }],
    });
    expect(text).toContain('letter 11 is outdated: 12, a newer letter of its record, was replayed in its place');
  });

  it('says when the replayed rows did not reach ClickHouse', () => {
    const text = formatReplaySummary({
      selected: 1, loaded: 1, failedAgain: 0, superseded: 0,
      streams: [{ source: 's', stream: 'x', runId: 5, selected: 1, loaded: 1, failedAgain: 0, superseded: 0, clickhouse: { code: 'SYNC_CLICKHOUSE_FAILED', message: 'connect ECONNREFUSED' } }],
    });
    expect(text).toContain("not sent to ClickHouse: connect ECONNREFUSED [SYNC_CLICKHOUSE_FAILED]; the stream's next sync sends it");
  });
});
