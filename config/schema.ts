/**
 * The schema of `config/junction.yaml` (version 1). Sources are a discriminated union on
 * `type:` over the connector registry; every object is strict. `config/junction.schema.json`
 * is generated from this (`junction schema --write`).
 */
import proxyaddr from 'proxy-addr';
import * as z from 'zod';
import { connectorSpecs } from '../connectors/index.js';
import { TARGETS } from '../pipelines/model.js';
import { secret } from './secret.js';
import { cronSchema, flagSchema, nameSchema, portSchema, regexSchema, timeZoneSchema, withCode } from './formats.js';

/** The tuple of the specs' config schemas (a homomorphic mapped type keeps it a tuple). */
type ConfigsOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: T[K] extends { config: infer C } ? C : never };
type SourceConfigs = ConfigsOf<typeof connectorSpecs>;

/** One source: the member of the union selected by its `type:`. */
export const sourceSchema = z.discriminatedUnion(
  'type',
  connectorSpecs.map((spec) => spec.config) as unknown as SourceConfigs,
);

/** `source.stream`, as schedules and mappings name a stream. */
export const STREAM_REF_RE = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;

const scheduleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, {
    error: (iss) => `invalid schedule name ${JSON.stringify(iss.input)}: use a-z, 0-9, - and _`,
  }),
  sync: z.string().regex(STREAM_REF_RE, {
    error: (iss) => `expected source.stream, received ${JSON.stringify(iss.input)}`,
  }),
  mode: z.enum(['incremental', 'full']).default('incremental'),
  cron: cronSchema(),
  timezone: timeZoneSchema('CFG_BAD_CRON').default('UTC'),
  enabled: flagSchema(true),
});

const identityKindSchema = z.strictObject({
  priority: z.number().int().describe('higher wins when keys of two kinds disagree'),
  normalize: z.enum(['email', 'phone', 'none']).default('none'),
  blocked: z.array(z.string()).default([]).describe('values that never link records (test@test.com)'),
  cardinality_cap: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('a value shared by more customers than this stops linking'),
  cardinality_by: z
    .array(nameSchema('identity kind'))
    .min(1)
    .optional()
    .describe('kinds whose ids tell the holders of a capped value apart (default: every kind without a cap; the largest count)'),
  derive: z
    .strictObject({
      kind: nameSchema('identity kind').describe('the declared kind whose values are qualified'),
      fields: z.array(nameSchema('field name')).min(1).describe('mapped fields holding a person name (name, nickname)'),
    })
    .optional()
    .describe('a key derived by resolution, not by mappings: each value of `kind` with each name the record carries (`+8613800138000|王伟`), so that a capped phone still links records of the holder whose name they carry'),
});

const survivorshipRuleSchema = z
  .enum(['source_priority', 'most_recent', 'first_non_null'])
  .describe('source_priority: first listed source with a value; most_recent: latest updated_at; first_non_null: earliest record with a value');

const survivorshipFieldSchema = z.strictObject({
  rule: survivorshipRuleSchema,
  sources: z.array(nameSchema('source name')).min(1).optional().describe('source_priority order, best first'),
});

/** How the golden record picks each field among a customer's source records. */
const survivorshipSchema = z
  .strictObject({
    default: survivorshipRuleSchema.default('most_recent'),
    sources: z.array(nameSchema('source name')).min(1).optional().describe('source_priority order for fields that list none'),
    fields: z.record(nameSchema('field name'), survivorshipFieldSchema).default({}).describe('per golden field or attribute'),
  })
  .superRefine((s, ctx) => {
    if (s.default === 'source_priority' && !s.sources) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'source_priority needs a sources: list', ...withCode('CFG_MISSING_KEY') });
    }
    for (const [field, f] of Object.entries(s.fields)) {
      if (f.rule === 'source_priority' && !f.sources && !s.sources) {
        ctx.addIssue({ code: 'custom', path: ['fields', field, 'rule'], message: 'source_priority needs a sources: list', ...withCode('CFG_MISSING_KEY') });
      }
    }
  });

const identitySchema = z.strictObject({
  default_region: z
    .string()
    .regex(/^[A-Z]{2}$/, { error: 'expected an ISO 3166 country code such as CN' })
    .default('CN')
    .describe('region for phone numbers written without a country code'),
  kinds: z.record(nameSchema('identity kind'), identityKindSchema).default({}),
  survivorship: survivorshipSchema.prefault({}),
});

/** A custom customer attribute: typed, stored in unified.customer_attribute. */
const attributeSchema = z.strictObject({
  type: z.enum(['string', 'integer', 'decimal', 'boolean', 'datetime', 'date', 'json']),
  description: z.string().optional(),
});

const routingRuleSchema = z
  .strictObject({
    team: nameSchema('team'),
    match: regexSchema().optional().describe('tested case-insensitively against the first customer message'),
    page: regexSchema().optional().describe("tested case-insensitively against the page URL the visitor's site reports"),
    language: z
      .array(z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { error: 'expected a language tag such as zh or en-US' }))
      .min(1)
      .optional()
      .describe('language tags; `zh` also matches zh-CN and zh-TW'),
  })
  .refine((r) => r.match !== undefined || r.page !== undefined || r.language !== undefined, {
    error: 'a routing rule needs at least one of match, page, language',
    ...withCode('CFG_MISSING_KEY'),
  })
  .describe('every condition given must hold; the first rule that matches picks the team');

const cannedReplySchema = z.strictObject({
  id: nameSchema('canned reply id'),
  title: z.string().min(1).max(200),
  text: z
    .string()
    .min(1)
    .max(4000)
    .describe('{{customer.name}}, {{orders.latest.status}}…: filled from the conversation\'s unified customer (gateway/canned.ts lists the variables)'),
});

/** A live lookup run for the rows of one context part (the SOAP order status of open orders). */
const contextLookupSchema = z.strictObject({
  part: z.enum(['orders', 'tickets']).describe('the context part whose rows it refreshes'),
  source: nameSchema('source name'),
  lookup: nameSchema('lookup name').describe('declared under the source\'s lookups:'),
  params: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: (iss) => `invalid parameter name ${JSON.stringify(iss.input)}` }), nameSchema('field name'))
    .describe('lookup param → field of the row (orderNo: order_no)'),
  statuses: z.array(z.string()).min(1).optional().describe('only rows with one of these unified statuses (open orders); default every row'),
  max_rows: z.number().int().min(1).max(100).default(10).describe('rows looked up per context at most (the most recent)'),
  timeout_ms: z.number().int().min(10).max(60_000).default(800).describe('the context is sent after this long at the latest; a late answer marks the part stale'),
  cache_ttl_s: z.number().int().min(0).max(86_400).default(30).describe('how long an answer is reused (Redis); 0: never cached'),
});

const gatewayCircuitSchema = z.strictObject({
  error_percent: z.number().int().min(1).max(100).default(50).describe('failed share of recent lookups that opens a source\'s circuit'),
  volume: z.number().int().min(1).default(3).describe('lookups in the window before the circuit may open'),
  reset_ms: z.number().int().min(100).default(10_000).describe('how long an open circuit waits before one probe lookup'),
});

const chatAnalyticsSchema = z.strictObject({
  enabled: flagSchema(true).describe('send chat messages and conversation changes to ClickHouse'),
  flush_ms: z.number().int().min(10).max(600_000).default(1000).describe('rows are sent at least this often'),
  batch_rows: z.number().int().min(1).max(100_000).default(1000).describe('a batch this large is sent at once'),
  max_buffer_rows: z.number().int().min(1).max(10_000_000).default(100_000).describe('rows kept while ClickHouse is down; the oldest are dropped beyond (and logged)'),
});

/**
 * Who may say where a request came from (`X-Forwarded-For`), as express's 'trust proxy'
 * takes it: false (nobody: the connection's address is the client's), a number of proxy hops
 * in front of the gateway, or the proxies' addresses. Entries are checked by proxy-addr,
 * which compiles them for express, so a typo fails at load and not at start. `true` is
 * refused: it would take any client's own `X-Forwarded-For` for its address.
 */
const trustProxySchema = z.union(
  [
    z.literal(false),
    z.number().int().min(1).max(16),
    z
      .array(
        z.string().refine(
          (entry) => {
            try {
              proxyaddr.compile(entry);
              return true;
            } catch {
              return false;
            }
          },
          { error: (iss) => `invalid proxy address ${JSON.stringify(iss.input)}: use an IP address, a CIDR (10.0.0.0/8) or loopback, linklocal, uniquelocal` },
        ),
      )
      .min(1),
  ],
  { error: 'expected false, a number of proxy hops (1-16) or a list of proxy addresses; true is refused (any client could then choose its own address)' },
);

const gatewaySchema = z.strictObject({
  port: portSchema().default(18080),
  allowed_origins: z
    .array(
      z.string().regex(/^https?:\/\/[^/\s]+$/, {
        error: (iss) => `expected an origin such as https://example.com, received ${JSON.stringify(iss.input)}`,
      }),
    )
    .default([]),
  default_team: nameSchema('team').default('support'),
  routing: z.array(routingRuleSchema).default([]),
  token_secret: secret(z.string().min(32, { error: 'the token secret must be at least 32 characters' }))
    .optional()
    .describe('HMAC key of agent and visitor tokens; without one the gateway refuses to start'),
  identity_secret: secret(z.string().min(16, { error: 'the identity secret must be at least 16 characters' }))
    .optional()
    .describe("shared with the retailer's site, which signs visitor identities with it; without one every identity claim is refused"),
  external_id_kind: nameSchema('identity kind').default('shop_account').describe("identity kind of a signed visitor's external_id"),
  identity_max_skew_s: z.number().int().min(10).max(3600).default(300).describe('how old (or how far ahead) a signed identity timestamp may be'),
  agent_token_ttl_s: z.number().int().min(60).max(86_400).default(3600).describe('lifetime of an agent login token (renewable at /api/auth/refresh while valid)'),
  agent_login_max_s: z.number().int().min(60).max(30 * 86_400).default(43_200).describe('how long refreshes may keep one agent login going; then the agent logs in again'),
  visitor_sessions_per_minute: z
    .number()
    .int()
    .min(0)
    .default(120)
    .describe('new visitor sessions a minute from one address (renewals with a valid token are free); 0: no limit'),
  visitor_conversations_per_hour: z
    .number()
    .int()
    .min(0)
    .default(20)
    .describe('conversations one visitor may open in an hour (each lands in an agent\'s queue; reopening a closed one does not count); 0: no limit'),
  trust_proxy: trustProxySchema
    .default(false)
    .describe('the reverse proxies in front of the gateway, whose X-Forwarded-For names the client address that the login and visitor session limits count: false (none: the connection\'s own address), a number of hops, or their addresses/CIDRs (loopback, 10.0.0.0/8)'),
  visitor_token_ttl_s: z.number().int().min(60).max(7 * 86_400).default(43_200).describe('lifetime of a visitor token (renewable while valid)'),
  max_payload_bytes: z.number().int().min(1024).max(1_048_576).default(16_384).describe('largest WebSocket frame; a bigger one closes the socket with 1009'),
  max_sockets_per_participant: z.number().int().min(1).max(10_000).default(20).describe('open sockets one agent or visitor may hold on one instance (tabs, reconnects); more are refused with GW_TOO_MANY_SOCKETS (HTTP 429)'),
  max_text_chars: z.number().int().min(1).max(100_000).default(4000).describe('longest chat message text'),
  heartbeat_ms: z.number().int().min(1000).max(300_000).default(30_000).describe('ping interval; a socket that missed the previous pong is dropped'),
  rate_limit: z
    .strictObject({
      frames_per_second: z.number().int().min(1).max(10_000).default(20).describe('steady frames per second per socket'),
      burst: z.number().int().min(0).max(100_000).default(40).describe('extra frames per 10 s a socket may send above the steady rate'),
    })
    .prefault({}),
  reconnect_grace_ms: z.number().int().min(0).default(60_000).describe('how long an agent may stay disconnected before their conversations are reassigned'),
  commit_window_ms: z.number().int().min(0).max(100).default(0).describe('how long a message waits for others to share its transaction (group commit); 0: what arrives in the same turn of the event loop, plus whatever arrives while the lane\'s previous transaction runs'),
  commit_max_batch: z.number().int().min(1).max(10_000).default(500).describe('most messages written by one transaction'),
  commit_lanes: z.number().int().min(1).max(32).default(2).describe('transactions in flight at once per instance (conversations are spread over lanes)'),
  require_origin: flagSchema(false).describe('refuse upgrades without an Origin header (non-browser clients send none)'),
  agent_capacity: z.number().int().min(0).max(1000).default(5).describe('open conversations an agent holds at once, unless the agent has its own capacity'),
  reassign_sweep_ms: z.number().int().min(50).max(600_000).default(5000).describe('how often an instance looks for conversations of agents gone past reconnect_grace_ms, for queues to drain, and for messages stored but never announced (their instance died before publishing)'),
  reopen_within_s: z.number().int().min(0).default(86_400).describe("a visitor's message on a conversation closed less than this long ago reopens it; 0: never"),
  canned_replies: z
    .array(cannedReplySchema)
    .default([])
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((c, i) => {
        if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `canned reply ${c.id} is declared twice`, ...withCode('CFG_DUPLICATE_NAME') });
        seen.add(c.id);
      });
    }),
  context: z
    .strictObject({
      orders: z.number().int().min(0).max(200).default(10).describe('most recent orders in the context panel'),
      tickets: z.number().int().min(0).max(200).default(10).describe('most recent open tickets in the context panel'),
      reuse_ms: z.number().int().min(0).max(60_000).default(2000).describe('a panel built for one agent is reused this long for others (a sync of the customer drops it)'),
    })
    .prefault({}),
  lookups: z.array(contextLookupSchema).default([]).describe('live lookups that refresh context rows (sources and lookups declared above)'),
  lookup_circuit: gatewayCircuitSchema.prefault({}).describe('per source and gateway process'),
  analytics: chatAnalyticsSchema.prefault({}),
  demo_shop: flagSchema(false).describe('serve the sample shop page /demo/shop (signs a seeded shopper\'s identity with identity_secret); for the demo only, never in production'),
});

/** Limits that hold for one source across every worker process (kept in Redis). */
const sourceLimitsSchema = z.strictObject({
  max_jobs: z.number().int().min(1).max(64).default(2).describe("sync jobs of this source running at once, across all workers (one per stream at most)"),
});

/** How sync jobs run on the BullMQ workers. */
const pipelinesSchema = z.strictObject({
  batch_size: z.number().int().min(1).max(50_000).default(1000).describe('records per batch (one transaction, one checkpoint)'),
  worker_concurrency: z.number().int().min(1).max(64).default(4).describe('sync jobs one worker process runs at once'),
  attempts: z.number().int().min(1).max(100).default(5).describe('tries of a job failing with a transient error before it fails'),
  backoff_ms: z.number().int().min(10).default(2000).describe('first retry delay; doubles each attempt'),
  circuit: z
    .strictObject({
      failures: z.number().int().min(1).default(3).describe('consecutive failed jobs of a source that open its circuit'),
      open_ms: z.number().int().min(100).default(30_000).describe('how long an open circuit waits before a probe job may run'),
      give_up_ms: z
        .number()
        .int()
        .min(1000)
        .default(3_600_000)
        .describe('how long a job may wait for its source to come back: a probe failing after that fails the job (SYNC_SOURCE_DOWN) instead of pausing it again'),
    })
    .prefault({}),
  sources: z.record(nameSchema('source name'), sourceLimitsSchema).default({}).describe('per-source limits; sources not listed get the defaults'),
});

/** The ops REST API, queue board, /metrics, /healthz and /readyz (served by the scheduler role). */
const opsSchema = z.strictObject({
  port: portSchema().default(18090),
  admin_token: secret(z.string().min(16, { error: 'the admin token must be at least 16 characters' }))
    .optional()
    .describe('bearer token for /api/ops and /ops/queues; without one those answer 503'),
});

/**
 * Cross-references the schema cannot express: attributes must not shadow model fields;
 * survivorship names golden fields, attributes and declared sources; `cardinality_by` names
 * declared kinds without a cap.
 */
function checkGoldenNames(
  cfg: {
    sources: Record<string, unknown>;
    attributes: Record<string, unknown>;
    identity: { kinds: Record<string, z.output<typeof identityKindSchema>>; survivorship: z.output<typeof survivorshipSchema> };
    pipelines: { sources: Record<string, unknown> };
  },
  ctx: z.RefinementCtx,
): void {
  const model = TARGETS.customer.fields;
  for (const name of Object.keys(cfg.attributes)) {
    if (Object.hasOwn(model, name)) {
      ctx.addIssue({ code: 'custom', path: ['attributes', name], message: `attribute ${name} is already a customer field of the model`, ...withCode('CFG_DUPLICATE_NAME') });
    }
  }
  for (const [kind, rule] of Object.entries(cfg.identity.kinds)) {
    if (rule.derive) {
      const from = cfg.identity.kinds[rule.derive.kind];
      if (!from || from.derive || rule.derive.kind === kind) {
        const message = from ? `${rule.derive.kind} is derived itself: derive from a kind the mappings fill` : `identity kind ${JSON.stringify(rule.derive.kind)} is not declared`;
        ctx.addIssue({ code: 'custom', path: ['identity', 'kinds', kind, 'derive', 'kind'], message, ...withCode('CFG_UNKNOWN_REF') });
      }
      rule.derive.fields.forEach((field, i) => {
        const known = Object.values(TARGETS).some((t) => Object.hasOwn(t.fields, field)) || Object.hasOwn(cfg.attributes, field);
        if (!known) {
          ctx.addIssue({ code: 'custom', path: ['identity', 'kinds', kind, 'derive', 'fields', i], message: `${field} is not a field of the model nor a declared attribute`, ...withCode('CFG_UNKNOWN_REF') });
        }
      });
    }
    rule.cardinality_by?.forEach((by, i) => {
      const other = cfg.identity.kinds[by];
      if (!other || other.cardinality_cap !== undefined) {
        const message = other ? `${by} has a cardinality_cap itself: holders are told apart by kinds without one` : `identity kind ${JSON.stringify(by)} is not declared`;
        ctx.addIssue({ code: 'custom', path: ['identity', 'kinds', kind, 'cardinality_by', i], message, ...withCode('CFG_UNKNOWN_REF') });
      }
    });
  }
  const { survivorship } = cfg.identity;
  const base = ['identity', 'survivorship'];
  const checkSources = (list: string[] | undefined, path: (string | number)[]) =>
    list?.forEach((source, i) => {
      if (!Object.hasOwn(cfg.sources, source)) {
        ctx.addIssue({ code: 'custom', path: [...path, i], message: `unknown source ${JSON.stringify(source)}`, ...withCode('CFG_UNKNOWN_REF') });
      }
    });
  checkSources(survivorship.sources, [...base, 'sources']);
  for (const source of Object.keys(cfg.pipelines.sources)) {
    if (!Object.hasOwn(cfg.sources, source)) {
      ctx.addIssue({ code: 'custom', path: ['pipelines', 'sources', source], message: `unknown source ${JSON.stringify(source)}`, ...withCode('CFG_UNKNOWN_REF') });
    }
  }
  for (const [field, rule] of Object.entries(survivorship.fields)) {
    if (!Object.hasOwn(model, field) && !Object.hasOwn(cfg.attributes, field)) {
      ctx.addIssue({ code: 'custom', path: [...base, 'fields', field], message: `${field} is neither a customer field nor a declared attribute`, ...withCode('CFG_UNKNOWN_REF') });
    }
    checkSources(rule.sources, [...base, 'fields', field, 'sources']);
  }
}

/** `gateway.lookups` name declared sources and lookups. */
function checkGatewayLookups(cfg: { sources: Record<string, unknown>; gateway: { lookups: z.output<typeof contextLookupSchema>[] } }, ctx: z.RefinementCtx): void {
  cfg.gateway.lookups.forEach((l, i) => {
    const source = cfg.sources[l.source] as { lookups?: Record<string, { params?: string[] }> } | undefined;
    const path = ['gateway', 'lookups', i];
    const declared = source?.lookups && Object.hasOwn(source.lookups, l.lookup) ? source.lookups[l.lookup] : undefined;
    if (!source) ctx.addIssue({ code: 'custom', path: [...path, 'source'], message: `unknown source ${JSON.stringify(l.source)}`, ...withCode('CFG_UNKNOWN_REF') });
    else if (!declared) {
      ctx.addIssue({ code: 'custom', path: [...path, 'lookup'], message: `source ${l.source} declares no lookup ${JSON.stringify(l.lookup)}`, ...withCode('CFG_UNKNOWN_REF') });
    } else {
      for (const param of declared.params ?? []) {
        if (!Object.hasOwn(l.params, param)) {
          ctx.addIssue({ code: 'custom', path: [...path, 'params'], message: `lookup ${l.source}.${l.lookup} needs param ${param}: name the row field that fills it`, ...withCode('CFG_MISSING_KEY') });
        }
      }
    }
  });
}

/** The whole `junction.yaml` document. */
export const configSchema = z
  .strictObject({
    version: z.literal(1),
    sources: z.record(nameSchema('source name'), sourceSchema),
    mappings: z
      .array(z.string().regex(/\.ya?ml$/, { error: 'expected a .yaml file path' }))
      .default([])
      .describe('mapping files, relative to this file'),
    schedules: z.array(scheduleSchema).default([]),
    identity: identitySchema.prefault({}),
    attributes: z
      .record(nameSchema('attribute name'), attributeSchema)
      .default({})
      .describe('custom customer attributes, written by customer mappings like fields'),
    gateway: gatewaySchema.prefault({}),
    pipelines: pipelinesSchema.prefault({}),
    ops: opsSchema.prefault({}),
  })
  .superRefine(checkGoldenNames)
  .superRefine(checkGatewayLookups)
  .meta({ title: 'Junction configuration', description: 'config/junction.yaml, version 1' });

/** The validated document with defaults applied (before mappings are loaded). */
export type ConfigDocument = z.output<typeof configSchema>;
export type SourceConfig = z.output<typeof sourceSchema>;
export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type IdentityConfig = z.output<typeof identitySchema>;
export type GatewayConfig = z.output<typeof gatewaySchema>;
export type PipelinesConfig = z.output<typeof pipelinesSchema>;
export type OpsConfig = z.output<typeof opsSchema>;
export type SurvivorshipConfig = z.output<typeof survivorshipSchema>;
export type AttributeConfig = z.output<typeof attributeSchema>;
