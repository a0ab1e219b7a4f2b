/**
 * HTTP/JSON APIs, including legacy PHP ones: signed query strings, a `{code, msg, data}`
 * envelope, GBK bodies, page-number paging, rate limits.
 */
import * as z from 'zod';
import { secret } from '../config/secret.js';
import type { ConnectorSpec } from './spec.js';
import {
  connectionUrl,
  credentials,
  fieldPath,
  lookupBase,
  namedRecord,
  pageSize,
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
  total: fieldPath().optional(),
});

const page = z.discriminatedUnion('style', [
  z.strictObject({
    style: z.literal('page_number'),
    size: pageSize(),
    param: z.string().default('page'),
    size_param: z.string().default('page_size'),
    start: z.number().int().min(0).default(1),
  }),
  z.strictObject({
    style: z.literal('offset'),
    size: pageSize(),
    param: z.string().default('offset'),
    size_param: z.string().default('limit'),
  }),
  z.strictObject({
    style: z.literal('cursor'),
    size: pageSize(),
    param: z.string().default('cursor'),
    size_param: z.string().default('limit'),
    next: fieldPath().describe('response field holding the next cursor'),
  }),
]);

const path = () => z.string().regex(/^\//, { error: 'expected a path starting with /' });
const query = () => z.record(z.string(), scalar()).default({});

const stream = z.strictObject({
  ...streamBase(),
  path: path(),
  method: z.enum(['GET', 'POST']).default('GET'),
  query: query(),
  cursor_param: z.string().optional().describe('query parameter that carries the cursor value'),
  page: page.optional(),
  record_path: fieldPath().optional().describe('overrides envelope.list'),
});

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
    timeout_ms: timeoutMs(30_000),
    rate_limit: z
      .strictObject({ per_second: z.number().positive(), burst: z.number().int().positive().optional() })
      .optional(),
    concurrency: z.number().int().min(1).max(32).default(1),
    streams: namedRecord('stream', stream),
    lookups: namedRecord('lookup', lookup).default({}),
  })
  .superRefine(requireWhenEnabled(['base_url']));

export const spec = {
  type: 'rest',
  summary: 'HTTP/JSON API: signed or token auth, response envelope, legacy encodings, paging, rate limit',
  config,
  examples: [
    {
      type: 'rest',
      base_url: 'http://127.0.0.1:18082',
      encoding: 'gbk',
      auth: { type: 'signature', appkey: 'demo-app', secret: 'demo-secret' },
      envelope: { code: 'code', success: 0, msg: 'msg', list: 'data.list', total: 'data.total' },
      streams: {
        tickets: {
          path: '/api.php',
          query: { m: 'ticket', a: 'list' },
          cursor: 'updated_at',
          cursor_param: 'updated_since',
          key: 'id',
          page: { style: 'page_number', size: 200 },
        },
      },
    },
  ],
} as const satisfies ConnectorSpec<'rest', typeof config>;
