/**
 * The schema of a mapping file (`mappings/*.yaml`, version 1): one source stream → one
 * unified entity. This checks the shape; what depends on the unified model (target fields,
 * types, enum values) and on JSONata (expression syntax) is checked by
 * `pipelines/map/validate.ts`, and the language is documented in `mappings/README.md`.
 */
import * as z from 'zod';
import { nameSchema, timeZoneSchema, withCode } from './formats.js';

/** Unified-view entities a mapping can feed. */
export const MAPPING_TARGETS = ['customer', 'order', 'ticket', 'crm_profile'] as const;

const expression = () => z.string().min(1).describe('a JSONata expression over the source record; a plain path such as address.city is read directly');
const scalar = () =>
  z.union([z.string(), z.number(), z.boolean(), z.null()], { error: 'expected a string, number, boolean or null' });

/**
 * What a `from:` that YAML read as a boolean, number or null needs: the name as written, in
 * quotes (and in backticks too when it starts with a digit). Not echoed back: YAML has
 * already changed it (`007` is 7, `True` is true). Undefined (the standard message) otherwise.
 */
function yamlScalarHint(input: unknown): string | undefined {
  if (input !== null && typeof input !== 'boolean' && typeof input !== 'number') return undefined;
  const what = input === null ? 'null (an empty or null value)' : `the ${typeof input} ${String(input)}`;
  const how = typeof input === 'number' ? 'in backticks inside quotes, as it starts with a digit: from: "`…`"' : 'in quotes: from: "…"';
  return `expected a field path, but YAML read ${what}: write the name as it is in the source, ${how}`;
}

const fieldObject = z
  .strictObject({
    expr: expression().optional(),
    from: z
      .string({ error: (iss) => yamlScalarHint(iss.input) })
      .min(1)
      .optional()
      .describe('a source field path (a.b, `Odd Name`), when no expression is needed'),
    map: z
      .record(z.string(), scalar())
      .optional()
      .describe('enum mapping: source value → unified value; a value not in the map takes the default (or fails the record)'),
    default: scalar()
      .optional()
      .describe('the unified value when the source has none, or one the helpers cannot convert; null tolerates bad values'),
    parse: z
      .enum(['datetime', 'number', 'boolean', 'json'])
      .optional()
      .describe('read text as a datetime/date, a number (decimal or integer per the field), a boolean or JSON'),
    format: z.string().min(1).optional().describe('luxon format of datetime text (yyyy-MM-dd HH:mm:ss), or x / X for epoch ms / s'),
    timezone: timeZoneSchema().optional().describe('IANA zone of datetimes written without an offset'),
    normalize: z.enum(['email', 'phone']).optional().describe('email: trimmed lower case; phone: E.164 (identity.default_region)'),
    trim: z.boolean().optional().describe('trim whitespace; a blank result is missing'),
  })
  .superRefine((field, ctx) => {
    if (field.expr !== undefined && field.from !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'give either expr or from, not both' });
    } else if (field.expr === undefined && field.from === undefined && field.default === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['expr'],
        message: 'missing expr (or from, or a constant default)',
        ...withCode('CFG_MISSING_KEY'),
      });
    }
    if (field.map !== undefined) {
      for (const helper of ['parse', 'normalize'] as const) {
        if (field[helper] === undefined) continue;
        ctx.addIssue({ code: 'custom', path: [helper], message: `map gives unified values: it cannot be combined with ${helper}` });
      }
    }
  });

const fieldSchema = z.union([expression(), fieldObject], { error: 'expected an expression or a field object' });

/** A whole mapping file. */
export const mappingSchema = z
  .strictObject({
    version: z.literal(1),
    description: z.string().optional(),
    source: nameSchema('source name'),
    stream: nameSchema('stream name'),
    target: z.enum(MAPPING_TARGETS),
    key: expression().describe('the source record key (lineage, idempotency)'),
    identity: z
      .array(
        z.strictObject({
          kind: nameSchema('identity kind'),
          value: expression().describe('its value (a list gives one key per item); normalized per the kind'),
        }),
      )
      .default([])
      .describe('identity keys this record contributes: its own, and references to its customer (an order\'s crm_id)'),
    fields: z.record(nameSchema('field name'), fieldSchema),
  })
  .meta({ title: 'Junction mapping', description: 'mappings/*.yaml, version 1' });

export type MappingConfig = z.output<typeof mappingSchema>;
export type MappingField = z.output<typeof fieldSchema>;
export type MappingFieldObject = z.output<typeof fieldObject>;

/** One field definition on its own (validate.ts checks each field even when another one is broken). */
export const mappingFieldSchema = fieldSchema;
