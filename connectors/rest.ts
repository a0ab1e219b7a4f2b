/**
 * HTTP/JSON APIs, including legacy PHP ones: signed query strings, a `{code, msg, data}`
 * envelope, GBK bodies, page-number paging, rate limits. The spec is here; the pieces live
 * in `rest/`: signature (auth), decode (charset, HTML pages, JSON), envelope, limiter (rate
 * and concurrency), http (requests and retries), paging (the tie- and drift-safe read),
 * lookup (templates), discover (field types).
 */
import * as z from 'zod';
import { JunctionError, isJunctionError } from '../config/errors.js';
import { timeZoneSchema, withCode } from '../config/formats.js';
import type { Logger } from '../config/log.js';
import { secret } from '../config/secret.js';
import type { ConnectorSpec } from './spec.js';
import type { Batch, CheckResult, Checkpoint, Connector, LookupOptions, LookupResult, ReadOptions, StreamInfo } from './types.js';
import { inferFields } from './rest/discover.js';
import { MAX_JSON_DEPTH } from './json.js';
import { pastEnd } from './cursor-value.js';
import { NotFound, lookupResultAt, recordsAt } from './rest/envelope.js';
import { RestClient } from './rest/http.js';
import { RequestGate, type SharedRateLimit } from './rest/limiter.js';
import { lookupRequest } from './rest/lookup.js';
import { CursorCodec } from './rest/cursor.js';
import { firstPageRequest, readStream, streamFields } from './rest/paging.js';
import {
  connectionUrl,
  credentials,
  fieldPath,
  lookupBase,
  namedRecord,
  requestSize,
  requireWhenEnabled,
  scalar,
  sourceBase,
  streamBase,
  timeoutMs,
} from './fields.js';

const auth = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('signature'),
    appkey: secret(z.string().min(1)),
    secret: secret(z.string().min(1)),
    algorithm: z.enum(['md5', 'sha1', 'sha256', 'hmac-sha1', 'hmac-sha256']).default('md5'),
    appkey_param: z.string().default('appkey'),
    timestamp_param: z.string().default('timestamp'),
    sign_param: z.string().default('sign'),
  }),
  z.strictObject({ type: z.literal('basic'), ...credentials() }),
  z.strictObject({ type: z.literal('bearer'), token: secret(z.string().min(1)) }),
  z.strictObject({ type: z.literal('header'), name: z.string().min(1), value: secret(z.string().min(1)) }),
]);

/** The `{code, msg, data}` wrapper many legacy APIs put around every response. */
const envelope = z.strictObject({
  code: fieldPath().default('code'),
  success: scalar().default(0).describe('value of `code` that means success'),
  msg: fieldPath().default('msg'),
  list: fieldPath().describe('where the records are, e.g. data.list'),
  total: fieldPath().optional().describe('count of records the query matched; lets paging detect pages the API clamped'),
  auth_codes: z.array(scalar()).default([]).describe('codes meaning bad credentials or signature (CONN_AUTH_FAILED, not retried)'),
  rate_limit_codes: z.array(scalar()).default([]).describe('codes meaning "slow down" (CONN_RATE_LIMITED, retried)'),
  not_found_codes: z.array(scalar()).default([]).describe('codes a lookup answers with null'),
});

const page = z.discriminatedUnion('style', [
  z.strictObject({
    style: z.literal('page_number'),
    size: requestSize(),
    param: z.string().default('page'),
    size_param: z.string().default('page_size'),
    start: z.number().int().min(0).default(1),
  }),
  z.strictObject({
    style: z.literal('offset'),
    size: requestSize(),
    param: z.string().default('offset'),
    size_param: z.string().default('limit'),
  }),
  z.strictObject({
    style: z.literal('cursor'),
    size: requestSize(),
    param: z.string().default('cursor'),
    size_param: z.string().default('limit'),
    next: fieldPath().describe('response field holding the next cursor'),
  }),
  z.strictObject({
    style: z.literal('next_link'),
    size: requestSize(),
    size_param: z.string().default('limit'),
    next: fieldPath().optional().describe('response field holding the next page URL; without it, the Link header (rel="next")'),
  }),
]);

/** How the source writes cursor values: used to order them and to format `cursor_param`. */
const cursorFormat = z.strictObject({
  format: z.string().min(1).describe('luxon tokens (yyyy-MM-dd HH:mm:ss), or iso, unix (seconds), unix_ms'),
  timezone: timeZoneSchema().default('UTC').describe('zone of values written without an offset'),
});

const retry = z
  .strictObject({
    retries: z.number().int().min(0).max(10).default(4),
    min_delay_ms: z.number().int().min(0).max(60_000).default(500),
    max_delay_ms: z.number().int().min(0).max(600_000).default(30_000).describe('also the longest Retry-After honoured'),
  })
  .default({ retries: 4, min_delay_ms: 500, max_delay_ms: 30_000 });

const path = () => z.string().regex(/^\//, { error: 'expected a path starting with /' });
const query = () => z.record(z.string(), scalar()).default({});

const CURSOR_PARAM_NEEDED =
  'a cursor on page_number or offset paging needs cursor_param, the query parameter by which the API filters cursor >= value ' +
  '(e.g. updated_since): without it pages are counted from the first while records up to the checkpoint are skipped, and a ' +
  'record updated during a read moves to the end and shifts another onto a page already read, which is then lost for good. ' +
  'Set cursor_param, or remove cursor to read the stream in full';

const stream = z
  .strictObject({
    ...streamBase(),
    path: path(),
    method: z.enum(['GET', 'POST']).default('GET'),
    query: query(),
    cursor_param: z.string().optional().describe('query parameter filtering cursor >= value (inclusive); enables incremental reads'),
    cursor_format: cursorFormat.optional().describe('how the source writes cursor values: orders them and formats cursor_param'),
    page: page.optional(),
    record_path: fieldPath().optional().describe('overrides envelope.list'),
  })
  .superRefine((s, ctx) => {
    // Only the filter re-bases numbered pages on what was read (rest/paging.ts); tokens,
    // next links and a single request do not drift.
    const numbered = s.page?.style === 'page_number' || s.page?.style === 'offset';
    if (numbered && s.cursor !== undefined && s.cursor_param === undefined) {
      ctx.addIssue({ code: 'custom', path: ['cursor_param'], message: CURSOR_PARAM_NEEDED, ...withCode('CFG_MISSING_KEY') });
    }
  });

/** Path and query values are templates: `{{params.NAME}}` is replaced by the URL-encoded parameter. */
const lookup = z.strictObject({ ...lookupBase(), path: path(), query: query(), record_path: fieldPath().optional() });

const config = z
  .strictObject({
    type: z.literal('rest'),
    ...sourceBase(),
    base_url: connectionUrl(['http', 'https']),
    encoding: z.enum(['utf-8', 'gbk', 'gb18030', 'latin1']).default('utf-8'),
    // Not secret: values like application/json would be redacted from every log line.
    // Credentials go in `auth` (type: header), whose value is.
    headers: z.record(z.string(), z.string()).default({}).describe('extra request headers (not secret)'),
    auth: auth.optional(),
    envelope: envelope.optional(),
    timeout_ms: timeoutMs(30_000).describe('per request attempt'),
    retry,
    rate_limit: z
      .strictObject({ per_second: z.number().positive(), burst: z.number().int().positive().optional().describe('default: ceil(per_second)') })
      .optional()
      .describe('token bucket over every request of the source, lookups included'),
    concurrency: z.number().int().min(1).max(32).default(1).describe('requests in flight at once'),
    streams: namedRecord('stream', stream),
    lookups: namedRecord('lookup', lookup).default({}),
  })
  .superRefine(requireWhenEnabled(['base_url']));

export const spec = {
  type: 'rest',
  summary: 'HTTP/JSON API: signed or token auth, response envelope, legacy encodings, paging, rate limit',
  notes: [
    `A JSON response nested deeper than ${MAX_JSON_DEPTH} levels (arrays and objects) is refused with CONN_BAD_RESPONSE.`,
    'A stream with a `cursor` and `page_number` or `offset` paging must set `cursor_param` (CFG_MISSING_KEY otherwise): numbered pages shift when records change during a read, and only re-filtering from the last record read keeps that from losing records.',
    "A successful response whose body starts with `{` or `[` (after a byte-order mark and blanks) is read as JSON whatever its Content-Type: PHP sends `text/html` unless the script sets one. A body starting with `<` (an HTML page, a PHP warning before the JSON) is CONN_HTTP_ERROR.",
  ],
  config,
  examples: [
    {
      type: 'rest',
      base_url: 'http://127.0.0.1:18082',
      encoding: 'gbk',
      auth: { type: 'signature', appkey: 'demo-app', secret: 'demo-secret', timestamp_param: 'ts' },
      envelope: { code: 'code', success: 0, msg: 'msg', list: 'data.list', total: 'data.total', auth_codes: [1001, 1002], not_found_codes: [1004] },
      rate_limit: { per_second: 20, burst: 10 },
      streams: {
        tickets: {
          path: '/api.php',
          query: { m: 'ticket', a: 'list' },
          cursor: 'updated_at',
          cursor_param: 'updated_since',
          cursor_format: { format: 'yyyy-MM-dd HH:mm:ss', timezone: 'Asia/Shanghai' },
          key: 'id',
          page: { style: 'page_number', size: 200, size_param: 'size' },
        },
      },
      lookups: {
        ticket: { path: '/api.php', query: { m: 'ticket', a: 'get', id: '{{params.id}}' }, params: ['id'], record_path: 'data', timeout_ms: 800 },
      },
    },
    {
      type: 'rest',
      base_url: 'https://api.example.com/v2',
      auth: { type: 'bearer', token: '${EXAMPLE_TOKEN}' },
      concurrency: 4,
      streams: {
        contacts: {
          path: '/contacts',
          cursor: 'updatedAt',
          cursor_param: 'updated_after',
          cursor_format: { format: 'iso' },
          key: 'id',
          page: { style: 'next_link', size: 100, next: 'links.next' },
          record_path: 'items',
        },
      },
    },
  ],
  create: (source, cfg, ctx) => new RestConnector(source, cfg, ctx.log, ctx.rateLimit),
} as const satisfies ConnectorSpec<'rest', typeof config>;

type RestConfig = z.output<typeof config>;

/** Records per probe page for discover (enough to see optional fields, small for the source). */
const SAMPLE_SIZE = 50;

/** A rest source: every request goes through one client, so one rate limit and one cap. */
class RestConnector implements Connector {
  readonly type = 'rest';
  private readonly client: RestClient;
  /** Aborted by close(): in-flight reads and lookups end with CONN_ABORTED. */
  private readonly closing = new AbortController();

  constructor(
    readonly source: string,
    private readonly cfg: RestConfig,
    private readonly log: Logger,
    sharedRate?: SharedRateLimit,
  ) {
    const gate = new RequestGate({ concurrency: cfg.concurrency, perSecond: cfg.rate_limit?.per_second, burst: cfg.rate_limit?.burst, shared: sharedRate });
    this.client = new RestClient({
      source,
      baseUrl: cfg.base_url,
      encoding: cfg.encoding,
      headers: cfg.headers,
      auth: cfg.auth,
      envelope: cfg.envelope,
      timeoutMs: cfg.timeout_ms,
      retry: cfg.retry,
      gate,
      log,
    });
  }

  private signal(own?: AbortSignal): AbortSignal {
    return own ? AbortSignal.any([own, this.closing.signal]) : this.closing.signal;
  }

  private stream(name: string) {
    const stream = Object.hasOwn(this.cfg.streams, name) ? this.cfg.streams[name] : undefined;
    if (!stream) {
      throw new JunctionError('CONN_UNKNOWN_STREAM', `source ${this.source} has no stream ${name}; declared: ${Object.keys(this.cfg.streams).join(', ')}`, {
        where: { source: this.source },
      });
    }
    return stream;
  }

  /** The first page of `name` with `size` records, without retries. */
  private async sample(name: string, size: number) {
    const stream = this.stream(name);
    const res = await this.client.request(firstPageRequest(stream, size), { retries: 0, signal: this.closing.signal });
    return recordsAt(res.body, stream.record_path ?? this.cfg.envelope?.list, { source: this.source, path: stream.path });
  }

  async check(): Promise<CheckResult> {
    const started = performance.now();
    const names = Object.keys(this.cfg.streams);
    try {
      for (const name of names) await this.sample(name, 1);
      const latencyMs = Math.round(performance.now() - started);
      const detail = names.length === 0 ? 'no streams declared; nothing probed' : `signed request answered for ${names.join(', ')}`;
      return { ok: true, latencyMs, detail };
    } catch (err) {
      const latencyMs = Math.round(performance.now() - started);
      const e = isJunctionError(err) ? err : new JunctionError('CONN_BAD_RESPONSE', String(err), { cause: err });
      return { ok: false, latencyMs, detail: e.message, code: e.code };
    }
  }

  async discover(): Promise<StreamInfo[]> {
    const out: StreamInfo[] = [];
    for (const [name, stream] of Object.entries(this.cfg.streams)) {
      const records = await this.sample(name, Math.min(stream.page?.size ?? SAMPLE_SIZE, SAMPLE_SIZE));
      const f = streamFields(stream);
      out.push({ name, key: f.key, cursor: f.cursor === undefined ? undefined : [f.cursor, f.key], fields: inferFields(records, stream.cursor_format) });
    }
    return out;
  }

  async *read(name: string, checkpoint: Checkpoint | null, options: ReadOptions = {}): AsyncGenerator<Batch> {
    const stream = this.stream(name);
    yield* readStream(
      { source: this.source, name, stream, client: this.client, listPath: this.cfg.envelope?.list, totalPath: this.cfg.envelope?.total, log: this.log },
      checkpoint,
      { ...options, signal: this.signal(options.signal) },
    );
  }

  /**
   * With a `cursor_format`, both sides are read as the stream's filter reads them: the
   * cursor in the source's format and zone, `bound` in that format or as ISO-8601 (a time
   * without an offset in the source's zone, as `--from` is).
   */
  cursorAfter(name: string, cursor: string | number, bound: string): boolean {
    const stream = this.stream(name);
    if (!stream.cursor_format) return pastEnd({ cursor, key: null }, bound);
    const codec = new CursorCodec(this.source, stream.cursor_format);
    return codec.compare(codec.rank(cursor), codec.rank(codec.toSource(bound))) > 0;
  }

  async lookup(name: string, params: Record<string, unknown>, options: LookupOptions = {}): Promise<LookupResult> {
    const lookup = Object.hasOwn(this.cfg.lookups, name) ? this.cfg.lookups[name] : undefined;
    if (!lookup) {
      throw new JunctionError('CONN_UNKNOWN_LOOKUP', `source ${this.source} has no lookup ${name}; declared: ${Object.keys(this.cfg.lookups).join(', ') || 'none'}`, {
        where: { source: this.source },
      });
    }
    const req = lookupRequest(this.source, name, lookup, params);
    // One deadline for the whole lookup, queueing behind the source's gate included: the
    // agent panel waits for this, not for an attempt. No retries: a stale panel beats a slow one.
    const deadline = AbortSignal.timeout(options.timeoutMs ?? lookup.timeout_ms);
    const signal = AbortSignal.any([deadline, this.signal(options.signal)]);
    try {
      const res = await this.client.request({ path: req.path, query: req.query }, { signal, retries: 0 });
      return lookupResultAt(res.body, lookup.record_path ?? this.cfg.envelope?.list, { source: this.source, path: lookup.path });
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closing.abort(new DOMException(`source ${this.source} closed`, 'AbortError'));
  }
}
