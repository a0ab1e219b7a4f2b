/** Oracle tables or queries (oracledb Thin mode), read by the shared SQL reader. */
import * as z from 'zod';
import { secret } from '../config/secret.js';
import type { ConnectorSpec } from './spec.js';
import { connectionUrl, namedRecord, requireWhenEnabled, sourceBase, sqlLookup, sqlStream } from './fields.js';

const config = z
  .strictObject({
    type: z.literal('oracle'),
    ...sourceBase(),
    url: connectionUrl(['oracle'], 'oracle://user:password@host:1521/service'),
    user: z.string().optional(),
    password: secret(z.string()).optional(),
    // 11g has no OFFSET/FETCH, so the reader pages with ROWNUM there.
    dialect: z.enum(['12c', '11g']).default('12c'),
    max_connections: z.number().int().min(1).max(64).default(4),
    streams: namedRecord('stream', sqlStream()),
    lookups: namedRecord('lookup', sqlLookup()).default({}),
  })
  .superRefine(requireWhenEnabled(['url']));

export const spec = {
  type: 'oracle',
  summary: 'Oracle tables or queries (Thin mode, 11g and 12c+), read after a (cursor, key) checkpoint',
  config,
  examples: [
    {
      type: 'oracle',
      url: 'oracle://crm:secret@db.example:1521/CRMPDB',
      dialect: '11g',
      streams: { customers: { table: 'CRM.CUSTOMERS', cursor: ['UPDATED_AT', 'CRM_ID'], key: 'CRM_ID' } },
    },
  ],
} as const satisfies ConnectorSpec<'oracle', typeof config>;
