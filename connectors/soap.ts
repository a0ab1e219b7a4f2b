/**
 * SOAP 1.1 services described by a WSDL (the demo's PHP order service). Streams call a list
 * operation page by page; lookups call a single-record operation live for the agent panel.
 */
import * as z from 'zod';
import { withCode } from '../config/formats.js';
import type { ConnectorSpec } from './spec.js';
import { SoapConnector } from './soap/connector.js';
import { unknownPlaceholders, type TemplateScope } from './soap/templates.js';
import { DEFAULT_MAX_XML_BYTES } from './soap/xml-guard.js';
import {
  connectionUrl,
  credentials,
  fieldPath,
  lookupBase,
  namedRecord,
  pagingFields,
  requireWhenEnabled,
  scalar,
  sourceBase,
  streamBase,
  timeoutMs,
} from './fields.js';

const operation = () => z.string().regex(/^[A-Za-z_][\w]*$/, { error: 'expected a WSDL operation name' });

/**
 * Operation arguments. String values are templates: `{{cursor}}`, `{{page.token}}`,
 * `{{page.size}}`, `{{window.since}}`, `{{window.until}}` (streams) and `{{params.NAME}}`
 * (lookups) are filled per call. A value that is exactly one placeholder keeps the value's
 * type and is omitted when the value is absent (no page token on the first page).
 */
const args = () =>
  z
    .record(z.string(), scalar())
    .default({})
    .describe('operation arguments; string values may use {{cursor}}, {{page.token}}, {{page.size}}, {{window.since}}, {{window.until}}, {{params.NAME}}');

/** A refinement naming placeholders the stream or lookup cannot fill (typos, undeclared params). */
function knownPlaceholders(scope: TemplateScope) {
  return (value: { args: Record<string, unknown>; params?: string[] }, ctx: z.core.$RefinementCtx<{ args: Record<string, unknown> }>) => {
    for (const name of unknownPlaceholders(value.args, scope, value.params)) {
      ctx.addIssue({
        code: 'custom',
        path: ['args'],
        message:
          scope === 'stream'
            ? `unknown placeholder {{${name}}}: streams have cursor, page.token, page.size, window.since, window.until`
            : `unknown placeholder {{${name}}}: lookups have params.NAME for each name in params`,
        ...withCode('CFG_INVALID_VALUE'),
      });
    }
  };
}

const auth = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('basic'), ...credentials() }),
  z.strictObject({
    type: z.literal('wsse'),
    ...credentials(),
    password_type: z.enum(['text', 'digest']).default('text'),
  }),
]);

const page = z.union(
  [
    z.strictObject({ token: fieldPath().describe('response field holding the next page token'), ...pagingFields() }),
    z.strictObject({
      window: z
        .string()
        .regex(/^\d+[smhd]$/, { error: 'expected a duration such as 6h or 1d' })
        .describe('width of one call\'s time window ({{window.since}} to {{window.until}}), from the cursor to the time the read started'),
      max: z
        .number()
        .int()
        .min(1)
        .max(1_000_000)
        .optional()
        .describe('the most records the service returns for one call (it cuts the rest off): a window that brings this many is split in two and asked again, down to one second'),
    }),
  ],
  { error: 'expected { token, size } or { window, max? }' },
);

const stream = z
  .strictObject({
    ...streamBase(),
    operation: operation(),
    args: args(),
    page: page.optional(),
    record_path: fieldPath().describe('where the records are in the response, e.g. orders.order'),
    start: z
      .string()
      .min(1)
      .optional()
      .describe('{{cursor}} of a first read, before any checkpoint (default 1970-01-01T00:00:00Z)'),
  })
  .superRefine(knownPlaceholders('stream'));

const lookup = z
  .strictObject({
    ...lookupBase(),
    operation: operation(),
    args: args().describe('operation arguments; default: each declared param under its own name'),
    record_path: fieldPath().optional(),
  })
  .superRefine(knownPlaceholders('lookup'));

const config = z
  .strictObject({
    type: z.literal('soap'),
    ...sourceBase(),
    wsdl: connectionUrl(['http', 'https', 'file'], 'URL of the WSDL: http(s)://… or file:///absolute/path.wsdl'),
    endpoint: connectionUrl(['http', 'https'], 'overrides the service address in the WSDL').optional(),
    auth: auth.optional(),
    timeout_ms: timeoutMs(30_000),
    max_response_bytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(DEFAULT_MAX_XML_BYTES)
      .describe('cap on one response or WSDL document; larger ones fail with CONN_BAD_RESPONSE'),
    streams: namedRecord('stream', stream),
    lookups: namedRecord('lookup', lookup).default({}),
  })
  .superRefine(requireWhenEnabled(['wsdl']));

export const spec = {
  type: 'soap',
  summary: 'SOAP 1.1 web service (WSDL): paged list operations as streams, single calls as lookups',
  notes: [
    'Redirects are not followed: a 3xx answer to the WSDL fetch or a call fails with CONN_HTTP_ERROR, as following it would send the envelope (WS-Security password included) to another host and take its answer for the service\'s. Configure the final `wsdl` or `endpoint`.',
    "Responses and WSDL documents are decoded by the Content-Type's `charset`, else a byte-order mark, else the XML declaration's `encoding`, else UTF-8; bytes that are not valid in that charset fail with CONN_CHARSET.",
    "Each stream's and lookup's `record_path` is checked against the WSDL's description of the operation's response, on first use and by `junction check`: a path that is not there fails with CONN_BAD_RESPONSE naming it, instead of reading as an empty source. An answer whose SOAP Body is empty or holds another element than the operation's response is CONN_BAD_RESPONSE too.",
    'Text values are kept as sent, blanks included. XSD integer types are numbers only when the text is an integer that a JSON number holds exactly, otherwise the text (without surrounding blanks); `xsd:decimal` and times stay the text as sent.',
    'A start given by `read --since` or a backfill\'s `--from` goes to the operation as is, and the connector does not filter the answer against it again: the service reads a time without an offset in its own zone.',
  ],
  config,
  examples: [
    {
      type: 'soap',
      wsdl: 'http://127.0.0.1:18081/orders.php?wsdl',
      streams: {
        orders: {
          operation: 'listOrdersUpdatedSince',
          args: { since: '{{cursor}}', pageToken: '{{page.token}}', pageSize: '{{page.size}}' },
          cursor: 'updatedAt',
          key: 'orderNo',
          page: { token: 'nextPageToken', size: 100 },
          record_path: 'orders.order',
        },
      },
      lookups: { order_status: { operation: 'getOrderStatus', params: ['orderNo'], timeout_ms: 800 } },
    },
    {
      type: 'soap',
      wsdl: 'file:///etc/junction/crm-contacts.wsdl',
      auth: { type: 'wsse', username: 'hub', password: 'change-me', password_type: 'digest' },
      streams: {
        contacts: {
          operation: 'listContactsModified',
          args: { from: '{{window.since}}', to: '{{window.until}}' },
          cursor: ['modifiedAt', 'contactId'],
          key: 'contactId',
          page: { window: '1d' },
          record_path: 'contacts.contact',
          start: '2024-01-01T00:00:00Z',
        },
      },
    },
  ],
  create: (source, cfg, ctx) => new SoapConnector(source, cfg, ctx.log),
} as const satisfies ConnectorSpec<'soap', typeof config>;
