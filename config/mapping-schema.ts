/**
 * The schema of a mapping file (`mappings/*.yaml`, version 1): one source stream → one
 * unified entity. Expressions are JSONata strings; their evaluation comes with the mapping
 * stage, this only checks the shape.
 */
import * as z from 'zod';
import { nameSchema, timeZoneSchema, withCode } from './formats.js';

/** Unified-view entities a mapping can feed. */
export const MAPPING_TARGETS = ['customer', 'order', 'ticket', 'crm_profile'] as const;

const expression = () => z.string().min(1).describe('a JSONata expression over the source record');
const scalar = () =>
  z.union([z.string(), z.number(), z.boolean(), z.null()], { error: 'expected a string, number, boolean or null' });

const fieldObject = z
  .strictObject({
    expr: expression().optional(),
    from: z.string().min(1).optional().describe('a source field path, when no expression is needed'),
    map: z.record(z.string(), scalar()).optional().describe('enum mapping: source value → unified value'),
    default: scalar().optional(),
    parse: z.enum(['datetime', 'number', 'integer', 'boolean', 'json']).optional(),
    format: z.string().min(1).optional().describe('luxon format of a datetime string'),
    timezone: timeZoneSchema().optional().describe('zone of datetimes written without an offset'),
    normalize: z.enum(['email', 'phone']).optional(),
    trim: z.boolean().optional(),
    type: z.enum(['string', 'number', 'integer', 'boolean', 'datetime', 'json']).optional(),
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
      .array(z.strictObject({ kind: nameSchema('identity kind'), value: expression() }))
      .default([])
      .describe('identity keys this record contributes'),
    fields: z.record(nameSchema('field name'), fieldSchema),
  })
  .meta({ title: 'Junction mapping', description: 'mappings/*.yaml, version 1' });

export type MappingConfig = z.output<typeof mappingSchema>;
export type MappingField = z.output<typeof fieldSchema>;
