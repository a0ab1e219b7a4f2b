/**
 * How pipelines/model.ts maps onto the `unified` schema: the PostgreSQL type of each field
 * type, each target's table and the bookkeeping columns every entity table has. The load
 * stage builds its statements from these and the model/schema test compares them with the
 * migrated database.
 */
import type { FieldType, TargetName } from '../model.js';
import { TARGETS } from '../model.js';

/** PostgreSQL type per model field type, as `information_schema.columns.data_type` names it. */
export const PG_TYPE: Readonly<Record<FieldType, string>> = {
  string: 'text',
  text: 'text',
  integer: 'bigint',
  decimal: 'numeric',
  boolean: 'boolean',
  datetime: 'timestamp with time zone',
  date: 'date',
  email: 'text',
  phone: 'text',
  json: 'jsonb',
};

/** Targets with an entity table of their own (customer records feed the golden record). */
export type EntityTarget = Exclude<TargetName, 'customer'>;
export const ENTITY_TARGETS: readonly EntityTarget[] = ['order', 'ticket', 'crm_profile'];

/** Schema-qualified, quoted table name (`order` is a reserved word). */
export function tableOf(target: TargetName): string {
  return `unified."${target}"`;
}

/** Columns every entity table has besides its model fields. */
export const ENTITY_COLUMNS = ['source', 'stream', 'source_key', 'customer_id', 'synced_at'] as const;

/** Columns of unified.customer besides the model's customer fields. */
export const CUSTOMER_COLUMNS = ['id', 'lineage', 'merged_into', 'anchors', 'anchor_kinds', 'pinned', 'hub_created_at', 'hub_updated_at'] as const;

/** The model fields of a target, in declaration order. */
export function fieldsOf(target: TargetName): string[] {
  return Object.keys(TARGETS[target].fields);
}

/** `"a", "b"`: quoted identifiers (field names are snake_case, quoting keeps reserved words safe). */
export function columnList(names: readonly string[], prefix = ''): string {
  return names.map((n) => `${prefix}"${n}"`).join(', ');
}
