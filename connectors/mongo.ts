/** MongoDB collections (the demo runs FerretDB), read after a (cursor, _id) checkpoint. */
import * as z from 'zod';
import type { ConnectorSpec } from './spec.js';
import {
  connectionUrl,
  lookupBase,
  namedRecord,
  pageSize,
  requireWhenEnabled,
  sourceBase,
  streamBase,
} from './fields.js';

const collection = () => z.string().min(1);
const filter = () => z.record(z.string(), z.unknown()).default({}).describe('a MongoDB query document');
const projection = () =>
  z.record(z.string(), z.union([z.literal(0), z.literal(1), z.boolean()], { error: 'expected 0, 1, true or false' }));

const stream = z.strictObject({
  ...streamBase(),
  collection: collection(),
  filter: filter(),
  projection: projection().optional(),
  batch_size: pageSize(1000),
});

const lookup = z.strictObject({
  ...lookupBase(),
  collection: collection(),
  filter: filter().describe('a query document; string values may use {{params.NAME}}'),
  projection: projection().optional(),
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
  config,
  examples: [
    {
      type: 'mongo',
      url: 'mongodb://127.0.0.1:17017/app',
      streams: { users: { collection: 'users', cursor: ['updatedAt', '_id'], key: '_id' } },
    },
  ],
} as const satisfies ConnectorSpec<'mongo', typeof config>;
