/**
 * MongoDB collections (the demo runs FerretDB), read after a (cursor, _id) checkpoint.
 *
 * Checkpoints are text, so their key keeps its BSON type in it (mongo/checkpoint-key.ts:
 * an ObjectId `_id` as hex, `$str:`, `$num:`, `$date:`… where the type would be ambiguous);
 * the cursor is a Date when it is an ISO-8601 date-time with an offset (how dates leave the
 * connector). A cursor field should therefore hold BSON dates or numbers, not ISO-looking
 * strings. A start point typed by a person (`--since 2020-01-01`) matches either type; one of
 * a type the field does not hold (`--since 1700000000` on dates) fails with CONN_CURSOR
 * instead of reading nothing (mongo/start-misfit.ts).
 */
import * as z from 'zod';
import { withCode } from '../config/formats.js';
import type { ConnectorSpec } from './spec.js';
import {
  connectionUrl,
  lookupBase,
  namedRecord,
  streamBatchSize,
  requireWhenEnabled,
  sourceBase,
  streamBase,
  timeoutMs,
} from './fields.js';
import { MongoConnector } from './mongo/connector.js';
import { placeholderParams } from './mongo/lookup-filter.js';
import { FORBIDDEN_OPERATORS, findForbiddenOperator } from './mongo/query.js';

const collection = () => z.string().min(1);
/** A query document; operators that run server-side code are refused at load. */
const filter = () =>
  z
    .record(z.string(), z.unknown())
    .superRefine((doc, ctx) => {
      const found = findForbiddenOperator(doc);
      if (found) {
        ctx.addIssue({
          code: 'custom',
          path: found.path.split('.'),
          message: `${found.operator} is not allowed in a filter (${FORBIDDEN_OPERATORS.join(', ')} run code on the server)`,
          ...withCode('CFG_INVALID_VALUE'),
        });
      }
    })
    .default({})
    .describe('a MongoDB query document');
const projection = () =>
  z.record(z.string(), z.union([z.literal(0), z.literal(1), z.boolean()], { error: 'expected 0, 1, true or false' }));

const stream = z.strictObject({
  ...streamBase(),
  collection: collection(),
  filter: filter(),
  projection: projection().optional(),
  batch_size: streamBatchSize(),
  timeout_ms: timeoutMs(60_000).describe('deadline of one batch query (maxTimeMS and a client-side timer)'),
});

const lookup = z
  .strictObject({
    ...lookupBase(),
    collection: collection(),
    filter: filter().describe('a query document; string values may use {{params.NAME}}; a whole {{params.NAME}} under a field matches 24 hex digits as that text or as the ObjectId it spells'),
    projection: projection().optional(),
  })
  .superRefine((value, ctx) => {
    for (const name of placeholderParams(value.filter)) {
      if (!value.params.includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['filter'],
          message: `{{params.${name}}} is not declared in params`,
          ...withCode('CFG_INVALID_VALUE'),
        });
      }
    }
  });

const config = z
  .strictObject({
    type: z.literal('mongo'),
    ...sourceBase(),
    url: connectionUrl(['mongodb', 'mongodb+srv']),
    database: z.string().optional().describe('defaults to the database in the URL'),
    streams: namedRecord('stream', stream),
    lookups: namedRecord('lookup', lookup).default({}),
  })
  .superRefine(requireWhenEnabled(['url']));

export const spec = {
  type: 'mongo',
  summary: 'MongoDB collections with an optional filter and projection',
  notes: [
    'MongoDB compares values of one type only, and a checkpoint is JSON: a date-time or number in text is read as that date or number and as the text itself, so a cursor field of dates, numbers or ISO-8601 strings resumes exactly when it holds one type.',
  ],
  config,
  examples: [
    {
      type: 'mongo',
      url: 'mongodb://127.0.0.1:17017/app',
      streams: { users: { collection: 'users', cursor: ['updatedAt', '_id'], key: '_id' } },
      lookups: {
        users_by_phone: {
          collection: 'users',
          params: ['phone'],
          filter: { phone: '{{params.phone}}' },
          projection: { openid: 1, nickname: 1, phone: 1 },
          timeout_ms: 500,
        },
      },
    },
  ],
  create: (source, cfg, ctx) => new MongoConnector(source, cfg, ctx.log),
} as const satisfies ConnectorSpec<'mongo', typeof config>;
