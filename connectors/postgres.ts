/** PostgreSQL tables or queries, read by the shared SQL reader with a compound cursor. */
import * as z from 'zod';
import { secret } from '../config/secret.js';
import type { ConnectorSpec } from './spec.js';
import { connectionUrl, namedRecord, requireWhenEnabled, sourceBase, sqlLookup, sqlStream } from './fields.js';

const config = z
  .strictObject({
    type: z.literal('postgres'),
    ...sourceBase(),
    url: connectionUrl(['postgres', 'postgresql']),
    password: secret(z.string()).optional().describe('when the password is not in the URL'),
    max_connections: z.number().int().min(1).max(64).default(4),
    streams: namedRecord('stream', sqlStream()),
    lookups: namedRecord('lookup', sqlLookup()).default({}),
  })
  .superRefine(requireWhenEnabled(['url']));

export const spec = {
  type: 'postgres',
  summary: 'PostgreSQL tables or queries, read in batches after a (cursor, key) checkpoint',
  config,
  examples: [
    {
      type: 'postgres',
      url: 'postgres://junction@127.0.0.1:15432/junction_estate',
      streams: { accounts: { table: 'shop.accounts', cursor: ['updated_at', 'id'], key: 'id' } },
    },
  ],
} as const satisfies ConnectorSpec<'postgres', typeof config>;
