/**
 * Live lookups for the context panel (`gateway.lookups`): the SOAP order status of open
 * orders, say. Each call goes through its source's circuit breaker (opossum, one per source
 * and gateway process: an instance that sees a source fail stops calling it for
 * `lookup_circuit.reset_ms`, then lets one probe through), answers are cached in Redis for
 * `cache_ttl_s` (shared by every instance), and the whole refresh of a part is bounded by the
 * lookup's `timeout_ms`: what has not answered by then leaves its rows as the last sync saw
 * them and marks the part stale. A late answer still fills the cache for the next panel.
 * A source with a shared rate window (the sync workers') gives each call its request before
 * the breaker, without waiting: when a sync has spent the window, the part is stale
 * (`GW_LOOKUP_RATE_LIMITED`) and the source's circuit does not count it as a failure.
 */
import { createHash } from 'node:crypto';
import CircuitBreaker from 'opossum';
import type { Redis } from 'ioredis';
import { JunctionError, isJunctionError } from '../../config/errors.js';
import type { Logger } from '../../config/log.js';
import type { JsonValue, LookupResult } from '../../connectors/types.js';
import type { GatewaySettings } from '../settings.js';
import type { GatewayKeys } from '../events.js';
import type { ContextPart } from '../protocol.js';
import type { LookupSource } from './lookup-connectors.js';
import type { Admission } from './shared-window.js';

export type LookupConfig = GatewaySettings['lookups'][number];

/** What a part's rows look like to a lookup: fields by name (`order_no`, `status`). */
type Row = Record<string, unknown> & { live?: Record<string, JsonValue> };

interface SourceState {
  breaker: CircuitBreaker<[string, Record<string, unknown>], LookupResult>;
  admit: Admission | undefined;
  /** When the current run of failures began (null while the source answers). */
  failingSince: Date | null;
  lastError: string | null;
}

interface Cached {
  at: string;
  result: LookupResult;
}

export interface LiveLookupsOptions {
  settings: Pick<GatewaySettings, 'lookups' | 'lookup_circuit'>;
  /** Connector (and shared rate window) per source named by a lookup (the caller's `lookupSources`). */
  sources: ReadonlyMap<string, LookupSource>;
  redis: Redis;
  /** Names the cache keys (under the gateway's Redis prefix). */
  keys: GatewayKeys;
  log: Logger;
}

/**
 * Errors that are the source's answer (a SOAP Client fault such as "order not found"): it is
 * up, the row just has no live data. A retryable one is not: a SOAP Server fault is the
 * service failing (its database down, connectors/soap/errors.ts), and counting it as an
 * answer would keep the circuit closed through that outage.
 */
const ANSWERED = new Set(['CONN_SOAP_FAULT', 'CONN_API_ERROR']);
const answered = (err: unknown) => isJunctionError(err) && ANSWERED.has(err.code) && !err.retryable;

/** The error code a failed lookup leaves on its part. */
function codeOf(err: unknown): string {
  if (isJunctionError(err)) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'EOPENBREAKER') return 'GW_LOOKUP_CIRCUIT_OPEN';
  if (code === 'ETIMEDOUT') return 'GW_LOOKUP_TIMEOUT';
  return 'GW_LOOKUP_FAILED';
}

export class LiveLookups {
  private readonly sources = new Map<string, SourceState>();

  constructor(private readonly o: LiveLookupsOptions) {
    const c = o.settings.lookup_circuit;
    for (const l of o.settings.lookups) {
      if (this.sources.has(l.source)) continue;
      const source = o.sources.get(l.source);
      if (!source) throw new TypeError(`LiveLookups option sources: no connector for source ${l.source}`);
      const { connector } = source;
      // The breaker times a call out (counted as a failure) after the slowest of the source's
      // lookup timeouts; the connector keeps its own, longer one for the call itself, so an
      // answer that comes late still fills the cache.
      const timeout = Math.max(...o.settings.lookups.filter((x) => x.source === l.source).map((x) => x.timeout_ms));
      const breaker = new CircuitBreaker((name: string, params: Record<string, unknown>) => connector.lookup(name, params), {
        timeout,
        errorThresholdPercentage: c.error_percent,
        volumeThreshold: c.volume,
        resetTimeout: c.reset_ms,
        name: l.source,
        errorFilter: answered,
      });
      const state: SourceState = { breaker, admit: source.admit, failingSince: null, lastError: null };
      breaker.on('success', () => {
        state.failingSince = null;
        state.lastError = null;
      });
      breaker.on('open', () => o.log.warn({ source: l.source }, 'lookup circuit open: live context from this source is stale until it answers'));
      breaker.on('close', () => o.log.info({ source: l.source }, 'lookup circuit closed'));
      this.sources.set(l.source, state);
    }
  }

  /** The lookups that refresh `part`. */
  for(part: LookupConfig['part']): LookupConfig[] {
    return this.o.settings.lookups.filter((l) => l.part === part);
  }

  private cacheKey(l: LookupConfig, params: Record<string, unknown>): string {
    const digest = createHash('sha1').update(JSON.stringify(Object.entries(params).sort(([a], [b]) => (a < b ? -1 : 1)))).digest('base64url');
    return this.o.keys.lookup(l.source, l.lookup, digest);
  }

  private async call(l: LookupConfig, params: Record<string, unknown>): Promise<Cached> {
    const state = this.sources.get(l.source)!;
    const key = this.cacheKey(l, params);
    if (l.cache_ttl_s > 0) {
      const hit = await this.o.redis.get(key).catch(() => null);
      if (hit) return JSON.parse(hit) as Cached;
    }
    // Taken here, outside the breaker: a call that waited for the window inside it would time
    // out as a failure of a source that is only busy. An open circuit makes no call, so it
    // takes no request from the window either.
    if (state.admit && !state.breaker.opened && !(await state.admit())) {
      throw new JunctionError('GW_LOOKUP_RATE_LIMITED', `source ${l.source} has no request left in the current window of its rate_limit (shared with syncs); lookup ${l.lookup} not tried`, { where: { source: l.source } });
    }
    try {
      const result = await state.breaker.fire(l.lookup, params);
      const fresh: Cached = { at: new Date().toISOString(), result };
      if (l.cache_ttl_s > 0) {
        this.o.redis.set(key, JSON.stringify(fresh), 'EX', l.cache_ttl_s).catch((err: unknown) => this.o.log.debug({ err }, 'lookup cache not written'));
      }
      return fresh;
    } catch (err) {
      if (!answered(err)) {
        state.failingSince ??= new Date();
        state.lastError = codeOf(err);
      }
      throw err;
    }
  }

  /**
   * Refreshes the rows of `part` with every lookup configured for it, within each lookup's
   * timeout. Rows that got an answer carry it as `live` (with its `asOf`); the part is stale
   * when a lookup failed or did not answer in time.
   */
  async refresh(part: ContextPart, kind: LookupConfig['part']): Promise<ContextPart> {
    const lookups = this.for(kind);
    if (lookups.length === 0 || part.stale || !Array.isArray(part.data) || part.data.length === 0) return part;
    const rows = (part.data as Row[]).map((r) => ({ ...r }));
    const outcomes = await Promise.all(lookups.map((l) => this.refreshWith(l, rows)));
    const failed = outcomes.filter((o): o is { source: string; error: string } => o !== null);
    // As of the oldest row shown: a live answer's time, or the sync's for rows without one.
    const times = rows.map((r) => (typeof r.live?.asOf === 'string' ? r.live.asOf : r.syncedAt)).filter((t): t is string => typeof t === 'string');
    const out: ContextPart = { asOf: times.sort()[0] ?? part.asOf, stale: failed.length > 0, data: rows };
    if (failed.length > 0) {
      const since = failed.map((f) => this.sources.get(f.source)?.failingSince?.toISOString() ?? new Date().toISOString()).sort()[0]!;
      out.staleSince = since;
      out.error = failed[0]!.error;
    }
    return out;
  }

  /** Runs one lookup for the matching rows; resolves by its timeout at the latest. Null when every row answered. */
  private async refreshWith(l: LookupConfig, rows: Row[]): Promise<{ source: string; error: string } | null> {
    const targets = rows.filter((r) => l.statuses === undefined || (typeof r.status === 'string' && l.statuses.includes(r.status))).slice(0, l.max_rows);
    if (targets.length === 0) return null;
    let error: string | null = null;
    // After the timeout the part is sent: late answers only fill the cache.
    let open = true;
    const calls = targets.map(async (row) => {
      const params = Object.fromEntries(Object.entries(l.params).map(([param, field]) => [param, row[field]]));
      if (Object.values(params).some((v) => v === null || v === undefined)) return;
      try {
        const { at, result } = await this.call(l, params);
        const record = Array.isArray(result) ? result[0] : result;
        if (open && record) row.live = { ...record, source: l.source, lookup: l.lookup, asOf: at };
      } catch (err) {
        if (open && answered(err)) row.live = { error: codeOf(err), source: l.source, lookup: l.lookup, asOf: new Date().toISOString() };
        else error ??= codeOf(err);
        this.o.log.debug({ err, source: l.source, lookup: l.lookup }, 'live lookup failed');
      }
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), l.timeout_ms)));
    const done = await Promise.race([Promise.all(calls).then(() => 'done' as const), timedOut]);
    open = false;
    clearTimeout(timer);
    if (done === 'timeout') {
      const state = this.sources.get(l.source);
      if (state) state.failingSince ??= new Date();
      return { source: l.source, error: error ?? 'GW_LOOKUP_TIMEOUT' };
    }
    return error ? { source: l.source, error } : null;
  }

  /** Stops the breakers' timers. */
  shutdown(): void {
    for (const s of this.sources.values()) s.breaker.shutdown();
  }
}
