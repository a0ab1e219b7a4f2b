/**
 * The `Connector` of every SQL kind: streams and lookups planned once from config, then
 * check / discover / read / lookup over a {@link SqlDriver} and a {@link SqlDialect}.
 * `connectors/postgres.ts` and `connectors/oracle.ts` only bring their driver and dialect.
 */
import { DateTime } from 'luxon';
import { JunctionError, isJunctionError } from '../../config/errors.js';
import { cursorTime, isIsoWithOffset, pastEnd } from '../cursor-value.js';
import { refuseCut } from '../json.js';
import type { Logger } from '../../config/log.js';
import type { Batch, CheckResult, Checkpoint, Connector, CountOptions, LookupOptions, LookupResult, ReadOptions, StreamInfo } from '../types.js';
import type { SqlDialect } from './dialects.js';
import type { ColumnInfo, SqlDriver } from './driver.js';
import { lookupParams, lookupResult, planLookup, type LookupPlan, type SqlLookupConfig } from './lookup.js';
import { lookupBinds, probeQuery } from './query-builder.js';
import { countStream, readStream, throwIfAborted, type ReaderContext } from './reader.js';
import { planStream, type SqlStreamConfig, type StreamPlan } from './stream-plan.js';

/** The part of a postgres or oracle source config the shared connector reads. */
/**
 * Rows a lookup returns at most, in the query's order: it feeds an agent's panel, not an
 * export (a placeholder email shared by thousands of rows must not load them all), as the
 * Mongo connector's lookups do.
 */
export const LOOKUP_ROWS = 100;

export interface SqlSourceConfig {
  readonly streams: Readonly<Record<string, SqlStreamConfig>>;
  readonly lookups: Readonly<Record<string, SqlLookupConfig>>;
}

export interface SqlConnectorOptions {
  source: string;
  type: string;
  dialect: SqlDialect;
  driver: SqlDriver;
  config: SqlSourceConfig;
  log: Logger;
}

/** Statement timeout of the connectivity probe in `check()`. */
const PING_TIMEOUT_MS = 10_000;

/**
 * Builds the connector. Streams and lookups are validated here, so a bad identifier or an
 * undeclared `:param` fails when the connector is created, before any connection.
 * @throws CFG_INVALID_VALUE, CFG_MISSING_KEY
 */
export function createSqlConnector(options: SqlConnectorOptions): Connector {
  const { source, type, dialect, driver, config, log } = options;
  const plans = new Map<string, StreamPlan>(Object.entries(config.streams).map(([name, s]) => [name, planStream(source, name, s)]));
  const lookups = new Map<string, LookupPlan>(Object.entries(config.lookups).map(([name, l]) => [name, planLookup(source, dialect, name, l)]));
  const columnCache = new Map<string, Promise<ColumnInfo[]>>();
  /** The same, once known: cursorAfter() answers synchronously, after a read described the stream. */
  const knownColumns = new Map<string, ColumnInfo[]>();

  const columns = (plan: StreamPlan): Promise<ColumnInfo[]> => {
    let cached = columnCache.get(plan.name);
    if (!cached) {
      cached = driver.describe(probeQuery(dialect, plan.from), { timeoutMs: plan.timeoutMs });
      // A failure is not cached: the next call asks again.
      cached.then((cols) => knownColumns.set(plan.name, cols), () => columnCache.delete(plan.name));
      columnCache.set(plan.name, cached);
    }
    return cached;
  };
  const ctx: ReaderContext = { source, dialect, driver, log, columns };

  const streamPlan = (name: string): StreamPlan => {
    const plan = plans.get(name);
    if (!plan) {
      throw new JunctionError('CONN_UNKNOWN_STREAM', `source ${source} has no stream ${name}; declared: ${[...plans.keys()].join(', ')}`, { where: { source } });
    }
    return plan;
  };

  return {
    source,
    type,

    async check(): Promise<CheckResult> {
      const started = performance.now();
      let latencyMs = 0;
      try {
        await driver.query({ sql: dialect.ping, binds: dialect.binds === 'positional' ? [] : {} }, { timeoutMs: PING_TIMEOUT_MS });
        latencyMs = Math.round(performance.now() - started);
        for (const plan of plans.values()) {
          try {
            await driver.query(probeQuery(dialect, plan.from), { timeoutMs: plan.timeoutMs });
          } catch (err) {
            throw isJunctionError(err) ? new JunctionError(err.code, `stream ${plan.name}: ${err.message}`, { cause: err, where: err.where, details: err.details, retryable: err.retryable }) : err;
          }
        }
        const names = [...plans.keys()];
        return { ok: true, latencyMs, detail: `connected (${dialect.name}); SELECT allowed on ${names.length} stream${names.length === 1 ? '' : 's'}${names.length ? `: ${names.join(', ')}` : ''}` };
      } catch (err) {
        return {
          ok: false,
          latencyMs: latencyMs || Math.round(performance.now() - started),
          detail: err instanceof Error ? err.message : String(err),
          code: isJunctionError(err) ? err.code : 'CONN_UNREACHABLE',
        };
      }
    },

    async discover(): Promise<StreamInfo[]> {
      const out: StreamInfo[] = [];
      for (const plan of plans.values()) {
        const cols = await columns(plan);
        out.push({
          name: plan.name,
          key: plan.key,
          cursor: plan.cursorSpec,
          // A declared query may outer-join a NOT NULL column: only a table's own columns are trusted.
          fields: cols.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable || !('table' in plan.from) })),
        });
      }
      return out;
    },

    read(stream: string, checkpoint: Checkpoint | null, readOptions?: ReadOptions): AsyncIterable<Batch> {
      // A generator, so an unknown stream fails on the first next() like every other error.
      return (async function* () {
        yield* readStream(ctx, streamPlan(stream), checkpoint, readOptions);
      })();
    },

    /**
     * A backfill's `--to` without an offset is read in the zone a `--from` is read in against
     * the cursor column (a PostgreSQL `timestamp` or an Oracle DATE: the source's `timezone`),
     * not as UTC: `--to 2026-01-31` on a São Paulo source ends at midnight there, not 3 hours
     * earlier.
     */
    cursorAfter(stream: string, cursor: string | number, bound: string): boolean {
      const plan = streamPlan(stream);
      const column = knownColumns.get(plan.name)?.find((c) => c.name === plan.cursor);
      const zone = column ? driver.boundZone?.(column) : null;
      if (!zone || isIsoWithOffset(bound) || typeof cursor !== 'string') return pastEnd({ cursor, key: null }, bound);
      const end = DateTime.fromISO(bound.trim().replace(' ', 'T'), { zone });
      const at = cursorTime(cursor);
      return end.isValid && at !== null ? at > end.toMillis() : pastEnd({ cursor, key: null }, bound);
    },
    async count(stream: string, checkpoint: Checkpoint | null, countOptions: CountOptions = {}): Promise<number> {
      return countStream(ctx, streamPlan(stream), checkpoint, countOptions.signal);
    },

    async lookup(name: string, params: Record<string, unknown>, lookupOptions: LookupOptions = {}): Promise<LookupResult> {
      const plan = lookups.get(name);
      if (!plan) {
        throw new JunctionError('CONN_UNKNOWN_LOOKUP', `source ${source} has no lookup ${name}; declared: ${[...lookups.keys()].join(', ') || 'none'}`, { where: { source } });
      }
      const values = lookupParams(source, plan, params);
      throwIfAborted(lookupOptions.signal, source);
      const { rows } = await driver.query(
        { sql: plan.prepared.sql, binds: lookupBinds(dialect, plan.prepared, values) },
        { timeoutMs: lookupOptions.timeoutMs ?? plan.timeoutMs, signal: lookupOptions.signal, maxRows: LOOKUP_ROWS, expectedRows: LOOKUP_ROWS },
      );
      return lookupResult(refuseCut(rows, source, `lookup ${name}`));
    },

    close(): Promise<void> {
      return driver.close();
    },
  };
}
