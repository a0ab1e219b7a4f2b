/**
 * SOAP 1.1 services described by a WSDL (the demo's PHP order service). Streams call a list
 * operation page by page; lookups call a single-record operation live for the agent panel.
 */
import * as z from 'zod';
import type { ConnectorSpec } from './spec.js';
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
 * `{{page.size}}` (streams) and `{{params.NAME}}` (lookups) are filled per call.
 */
const args = () => z.record(z.string(), scalar()).default({});

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
      window: z.string().regex(/^\d+[smhd]$/, { error: 'expected a duration such as 6h or 1d' }),
    }),
  ],
  { error: 'expected { token, size } or { window }' },
);

const stream = z.strictObject({
  ...streamBase(),
  operation: operation(),
  args: args(),
  page: page.optional(),
  record_path: fieldPath().describe('where the records are in the response, e.g. orders.order'),
});

const lookup = z.strictObject({
  ...lookupBase(),
  operation: operation(),
  args: args(),
  record_path: fieldPath().optional(),
});

const config = z
  .strictObject({
    type: z.literal('soap'),
    ...sourceBase(),
    wsdl: connectionUrl(['http', 'https'], 'URL of the WSDL'),
    endpoint: connectionUrl(['http', 'https'], 'overrides the service address in the WSDL').optional(),
    auth: auth.optional(),
    timeout_ms: timeoutMs(30_000),
    streams: namedRecord('stream', stream),
    lookups: namedRecord('lookup', lookup).default({}),
  })
  .superRefine(requireWhenEnabled(['wsdl']));

export const spec = {
  type: 'soap',
  summary: 'SOAP 1.1 web service (WSDL): paged list operations as streams, single calls as lookups',
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
  ],
} as const satisfies ConnectorSpec<'soap', typeof config>;
