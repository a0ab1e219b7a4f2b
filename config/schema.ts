/**
 * The schema of `config/junction.yaml` (version 1). Sources are a discriminated union on
 * `type:` over the connector registry; every object is strict. `config/junction.schema.json`
 * is generated from this (`junction schema --write`).
 */
import * as z from 'zod';
import { connectorSpecs } from '../connectors/index.js';
import { cronSchema, flagSchema, nameSchema, portSchema, regexSchema, timeZoneSchema } from './formats.js';

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
});

const identitySchema = z.strictObject({
  default_region: z
    .string()
    .regex(/^[A-Z]{2}$/, { error: 'expected an ISO 3166 country code such as CN' })
    .default('CN')
    .describe('region for phone numbers written without a country code'),
  kinds: z.record(nameSchema('identity kind'), identityKindSchema).default({}),
});

const routingRuleSchema = z.strictObject({
  team: nameSchema('team'),
  match: regexSchema().describe('tested case-insensitively against the first customer message'),
});

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
});

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
    gateway: gatewaySchema.prefault({}),
  })
  .meta({ title: 'Junction configuration', description: 'config/junction.yaml, version 1' });

/** The validated document with defaults applied (before mappings are loaded). */
export type ConfigDocument = z.output<typeof configSchema>;
export type SourceConfig = z.output<typeof sourceSchema>;
export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type IdentityConfig = z.output<typeof identitySchema>;
export type GatewayConfig = z.output<typeof gatewaySchema>;
