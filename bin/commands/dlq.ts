/**
 * `junction dlq list | show <id> | replay`: the records that failed a stage (dead letters),
 * one of them with its raw payload, and re-running them through the current mapping.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import type pg from 'pg';
import { stackSettings } from '../../config/env.js';
import { JunctionError, isJunctionError } from '../../config/errors.js';
import { createLogger, type Logger } from '../../config/log.js';
import { getDeadLetter, listDeadLetters, type DeadLetterView } from '../../jobs/dead-letters.js';
import { replayDeadLetters, type ReplaySummary } from '../../pipelines/replay.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { connectRedis } from '../cli-redis.js';
import { printJson } from '../json-output.js';
import { positiveInt } from '../options.js';
import { loadCliConfig } from '../sources.js';
import { hubPool } from '../../sql/hub-connection.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const SINCE_FORMS = 'expected an ISO-8601 time (2025-06-01T08:00:00Z; UTC when it has no offset) or a duration back from now (90s, 15m, 2h, 7d)';

/**
 * `--since`: an ISO-8601 date or date-time, or a duration back from `now` (`90s`, `15m`, `2h`,
 * `7d`). A time without an offset is UTC, as a date alone is (`2025-06-01`: its midnight UTC):
 * read in the host's zone, one command line would select other letters on another machine.
 * A date that does not exist (`2025-02-30`) is refused rather than rolled over to March.
 */
export function parseSince(value: string, now: Date = new Date()): Date {
  const text = value.trim();
  const relative = /^(\d+)([smhd])$/.exec(text);
  if (relative) {
    const at = new Date(now.getTime() - Number(relative[1]) * UNITS[relative[2]!]!);
    // Before the year 1 (or past what a Date holds): no letter is that old, and PostgreSQL
    // would refuse the time (or get "Invalid Date").
    if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < 1) throw new InvalidArgumentError(`${text} reaches back before the year 1; ${SINCE_FORMS}`);
    return at;
  }
  // luxon reads an IANA zone in brackets after an offset and lets it win over the offset: refused.
  if (text.includes('[')) throw new InvalidArgumentError(`a zone in brackets is not read; give the offset alone; ${SINCE_FORMS}`);
  // A calendar date first: luxon would also take week dates (2025-W22), ordinal dates and times alone.
  if (/^\d{4}-\d{2}-\d{2}(?:$|[T ])/.test(text)) {
    const at = DateTime.fromISO(text.replace(' ', 'T'), { zone: 'UTC' });
    if (at.isValid) return at.toJSDate();
    throw new InvalidArgumentError(`no such date or time (${at.invalidExplanation ?? at.invalidReason}); ${SINCE_FORMS}`);
  }
  throw new InvalidArgumentError(SINCE_FORMS);
}

function letterId(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), positiveInt(value)];
}

/** One line of text, at most `width` characters. */
export function shorten(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

/** Mapping paths are long and say little in a table: their file name and line are kept. */
const briefPaths = (message: string) => message.replace(/(^|\s)(?:[^\s:]*\/)+([^\s/]+\.ya?ml:)/g, '$1$2');

const time = (iso: string | null) => (iso ? iso.replace(/\.\d{3}Z$/, 'Z') : '-');

/** The table `dlq list` prints. */
export function formatLetterTable(letters: readonly DeadLetterView[]): string {
  const rows = letters.map((l) => [
    String(l.id),
    `${l.source}.${l.stream}`,
    l.sourceKey ?? '-',
    l.stage,
    l.errorCode,
    shorten(briefPaths(l.errorMessage), 60),
    time(l.createdAt),
    l.replayedAt ? `${time(l.replayedAt)} (run ${l.replayRunId})` : '-',
  ]);
  const head = ['ID', 'STREAM', 'KEY', 'STAGE', 'CODE', 'MESSAGE', 'CREATED', 'REPLAYED'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** The lines `dlq replay` prints. */
export function formatReplaySummary(s: ReplaySummary): string {
  const lines = [`replayed ${s.selected} dead letter${s.selected === 1 ? '' : 's'}: ${s.loaded} loaded, ${s.failedAgain} failed again, ${s.superseded} superseded`];
  for (const st of s.streams) {
    lines.push(
      `  ${st.source}.${st.stream} (run ${st.runId}): ${st.selected} selected, ${st.loaded} loaded, ${st.failedAgain} failed again, ${st.superseded} superseded` +
        (st.error ? ` — ${st.error.message} [${st.error.code}]` : ''),
    );
    for (const r of st.replacedBy ?? []) lines.push(`    letter ${r.id} is outdated: ${r.by}, a newer letter of its record, was replayed in its place`);
    if (st.clickhouse) lines.push(`    not sent to ClickHouse: ${st.clickhouse.message} [${st.clickhouse.code}]; the stream's next sync sends it`);
  }
  if (s.failedAgain > 0) lines.push('the letters that failed again keep their payload and show the new error: junction dlq list --pending');
  return lines.join('\n');
}

async function withPool<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = hubPool(stackSettings().services.postgres.url, { max: 4 });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

/** A publisher for `customer.updated`, or none when Redis does not answer (the data still loads). */
async function publisher(url: string, log: Logger): Promise<Redis | undefined> {
  try {
    return await connectRedis(url, { retryStrategy: () => null });
  } catch (err) {
    if (!isJunctionError(err)) throw err;
    log.warn({ code: err.code }, `${err.message}; customer.updated events are not published for this replay`);
    return undefined;
  }
}

interface Filters {
  source?: string;
  stream?: string;
  since?: Date;
  json?: boolean;
}

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('dead letters: records that failed a stage, and replaying them through the current mapping');

  dlq
    .command('list')
    .description('dead letters, newest first')
    .option('--source <name>', 'only this source')
    .option('--stream <name>', 'only this stream')
    .option('--since <time>', 'created at or after: ISO-8601 time (UTC without an offset) or a duration back (2h, 7d)', (v) => parseSince(v))
    .option('--pending', 'only letters not replayed yet')
    .option('--limit <n>', 'at most this many', positiveInt, 50)
    .option('--json', 'print one JSON object {deadLetters}')
    .action(async (opts: Filters & { pending?: boolean; limit: number }) => {
      const filter = { source: opts.source, stream: opts.stream, since: opts.since, limit: opts.limit, ...(opts.pending ? { replayed: false } : {}) };
      const { deadLetters: letters } = await withPool((pool) => listDeadLetters(pool, filter));
      if (opts.json) printJson({ deadLetters: letters });
      else console.log(letters.length ? formatLetterTable(letters) : 'no dead letters match');
    });

  dlq
    .command('show')
    .argument('<id>', 'dead letter id', positiveInt)
    .description('one dead letter: every field and its raw payload')
    .option('--json', 'print it as one JSON object')
    .action(async (id: number, opts: { json?: boolean }) => {
      const letter = await withPool((pool) => getDeadLetter(pool, id));
      if (!letter) throw new JunctionError('SYNC_DEAD_LETTER_NOT_FOUND', `no dead letter ${id}`);
      if (opts.json) {
        printJson(letter);
        return;
      }
      const { payload, ...fields } = letter;
      const width = Math.max(...Object.keys(fields).map((k) => k.length));
      for (const [k, v] of Object.entries(fields)) console.log(`${k.padEnd(width)}  ${v ?? '-'}`);
      console.log('payload');
      console.log(JSON.stringify(payload ?? null, null, 2).replace(/^/gm, '  '));
    });

  dlq
    .command('replay')
    .description('re-run dead letters that were not replayed yet through the current mapping; exit 1 when some fail again')
    .option('--source <name>', 'only this source')
    .option('--stream <name>', 'only this stream')
    .option('--since <time>', 'created at or after: ISO-8601 time (UTC without an offset) or a duration back (2h, 7d)', (v) => parseSince(v))
    .option('--id <n>', 'only this letter (repeatable)', letterId)
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('--json', 'print the summary as one JSON object')
    .action(async (opts: Filters & { id?: number[]; config?: string }) => {
      const config = await loadCliConfig(opts.config);
      if (opts.source !== undefined && !(opts.source in config.sources)) {
        throw new JunctionError('CFG_UNKNOWN_REF', `no source named ${opts.source}; declared: ${Object.keys(config.sources).join(', ')}`, { where: { source: opts.source } });
      }
      if (opts.id?.length) {
        const ids = opts.id;
        const found = await withPool(async (pool) => (await pool.query<{ id: string }>('SELECT id FROM hub.dead_letter WHERE id = ANY($1::bigint[])', [ids])).rows.map((r) => Number(r.id)));
        const missing = ids.filter((id) => !found.includes(id));
        if (missing.length > 0) throw new JunctionError('SYNC_DEAD_LETTER_NOT_FOUND', `no dead letter ${missing.join(', ')}`);
      }
      const settings = stackSettings();
      const log = createLogger({ secrets: config, level: process.env.JUNCTION_LOG_LEVEL ?? 'warn' });
      const clickhouse = createClickhouseClient(settings, { log });
      const redis = await publisher(settings.services.redis.url, log);
      try {
        const summary = await withPool((pool) =>
          replayDeadLetters({ config, pool, clickhouse, redis, log, filter: { source: opts.source, stream: opts.stream, since: opts.since, ids: opts.id } }),
        );
        if (opts.json) printJson(summary);
        else console.log(formatReplaySummary(summary));
        if (summary.failedAgain > 0 || summary.streams.some((st) => st.error)) process.exitCode = 1;
      } finally {
        redis?.disconnect();
        await clickhouse.close();
      }
    });
}
