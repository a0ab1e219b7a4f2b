/**
 * Option groups shared by connector specs (like Redpanda Connect's `connFields()`): each is
 * a function returning fresh schemas or a shape to spread into `z.strictObject({...})`.
 */
import * as z from 'zod';
import { flagSchema, nameSchema, withCode } from '../config/formats.js';
import { secret, secretUrl } from '../config/secret.js';

/** `enabled:` — a disabled source is validated but never read. @defaultValue true */
export function enabledField() {
  return flagSchema(true).describe('false (or an empty string from `${VAR:+true}`) turns the source off');
}

/** A timeout in milliseconds. */
export function timeoutMs(defaultValue: number) {
  return z.number().int().positive().max(3_600_000).default(defaultValue);
}

/**
 * A connection URL with one of `schemes`; its password is secret. An empty string is allowed
 * here so a disabled source may leave it unset; {@link requireWhenEnabled} demands it otherwise.
 */
export function connectionUrl(schemes: readonly string[], description?: string) {
  const pattern = new RegExp(`^(${schemes.map((s) => s.replace(/[+.]/g, '\\$&')).join('|')})://\\S+$`);
  return secretUrl(
    z.string().refine((v) => v === '' || pattern.test(v), {
      // The value itself is left out of the message: it may carry credentials.
      error: `expected a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
    }).describe(description ?? `${schemes[0]}:// URL`),
  );
}

/** Fields every source has, whatever its kind. */
export function sourceBase() {
  return {
    enabled: enabledField(),
    description: z.string().optional(),
  };
}

/**
 * A refinement for a source object: the listed connection fields must be non-empty when the
 * source is enabled (the demo's Oracle source is off and has an empty `url`).
 */
export function requireWhenEnabled(keys: readonly string[]) {
  return (value: Record<string, unknown>, ctx: z.core.$RefinementCtx<Record<string, unknown>>) => {
    if (value.enabled === false) return;
    for (const key of keys) {
      if (value[key] === '' || value[key] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${key} is empty; set it or set enabled: false`,
          ...withCode('CFG_MISSING_KEY'),
        });
      }
    }
  };
}

/** A record field path such as `updatedAt` or `data.list`. */
export function fieldPath() {
  return z.string().min(1);
}

/**
 * `cursor:` — one field, or `[cursor, key]` for a tie-safe compound cursor. Optional: a
 * stream without a cursor can only be read in full.
 */
export function cursorField() {
  return z
    .union([fieldPath(), z.tuple([fieldPath(), fieldPath()])], {
      error: 'expected a field name or a [cursor, key] pair',
    })
    .optional();
}

/** The fields every stream has: cursor and record key. */
export function streamBase() {
  return {
    description: z.string().optional(),
    cursor: cursorField(),
    key: fieldPath().describe('field that identifies a record within the stream'),
  };
}

/** Records per page or batch. @defaultValue 100 */
export function pageSize(defaultValue = 100) {
  return z.number().int().min(1).max(10_000).default(defaultValue);
}

/**
 * A stream's own batch size: records per batch (one transaction, one checkpoint) when a
 * sync or `read` of it is given none, instead of `pipelines.batch_size`.
 */
export function streamBatchSize() {
  return z
    .number()
    .int()
    .min(1)
    .max(50_000)
    .optional()
    .describe("records per batch of this stream (one transaction, one checkpoint, one query page): syncs and reads of it use this instead of pipelines.batch_size (read --batch-size and a sync's own batch size still win)");
}

/** The `batch_size` a config gives `source`.`stream`, if any (for the callers that choose a read's batch size). */
export function streamBatchSizeOf(config: { sources: Record<string, unknown> }, source: string, stream: string): number | undefined {
  const streams = (config.sources[source] as { streams?: Record<string, { batch_size?: unknown } | undefined> } | undefined)?.streams;
  const size = streams && Object.hasOwn(streams, stream) ? streams[stream]?.batch_size : undefined;
  return typeof size === 'number' ? size : undefined;
}

/** What a reader asks per query when neither its caller nor its stream names a batch size. */
export const DEFAULT_READ_BATCH = 1000;

/** Records a paged source is asked for per request. */
export function requestSize(defaultValue = 100) {
  return pageSize(defaultValue).describe('records asked per request (at most what the service allows); a batch (pipelines.batch_size) spans several pages or splits one');
}

/** Paging options shared by the paged kinds (SOAP token pages, REST pages). */
export function pagingFields(defaultSize = 100) {
  return { size: requestSize(defaultSize) };
}

/** Scalars allowed in request arguments and query strings. */
export function scalar() {
  return z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' });
}

/** Fields every live lookup has. */
export function lookupBase() {
  return {
    description: z.string().optional(),
    // Parameter names follow the source's own style (SOAP's orderNo, Oracle's CRM_ID).
    params: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: (iss) => `invalid parameter name ${JSON.stringify(iss.input)}` }))
      .default([])
      .describe('names of the values the caller passes'),
    timeout_ms: timeoutMs(800),
  };
}

/** A record of named streams (or lookups): names are snake_case. */
export function namedRecord<T extends z.ZodType>(what: string, item: T) {
  return z.record(nameSchema(`${what} name`), item);
}

/** Username and password for basic-style auth; the password is secret. */
export function credentials() {
  return { username: z.string().min(1), password: secret(z.string()) };
}

/** A qualified table name: `table` or `schema.table`. */
export function tableName() {
  return z.string().regex(/^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)?$/, {
    error: (iss) => `invalid table name ${JSON.stringify(iss.input)}: expected table or schema.table`,
  });
}

/** A stream read by the shared SQL reader (postgres, oracle): a table or a query. */
export function sqlStream() {
  return z
    .strictObject({
      ...streamBase(),
      table: tableName().optional(),
      query: z.string().min(1).optional().describe('a SELECT; the reader adds the cursor predicate and order'),
      batch_size: streamBatchSize(),
      statement_timeout_ms: timeoutMs(60_000),
      lookback_s: z
        .number()
        .int()
        .min(0)
        .max(86_400)
        .default(0)
        .describe(
          'a read resumes this many seconds before its time cursor: a row whose transaction stamped updated_at and committed after a later row was read is picked up (re-read rows are unchanged and skipped); 0: from the checkpoint',
        ),
    })
    .superRefine((stream, ctx) => {
      if (stream.table !== undefined && stream.query !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['query'], message: 'give either table or query, not both' });
      } else if (stream.table === undefined && stream.query === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['table'],
          message: 'missing table (or query)',
          ...withCode('CFG_MISSING_KEY'),
        });
      }
    });
}

/** A lookup run by the shared SQL reader: a parameterised query. */
export function sqlLookup() {
  return z.strictObject({
    ...lookupBase(),
    query: z.string().min(1).describe('a SELECT with named :params'),
  });
}
