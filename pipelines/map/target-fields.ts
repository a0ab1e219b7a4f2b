/**
 * The fields a mapping may write for a target: the unified model's, plus, for customers,
 * the custom attributes declared in config (`attributes:`), typed like fields.
 */
import { TARGETS, type FieldSpec, type FieldType, type TargetName } from '../model.js';

/** A declared custom attribute, as config/schema.ts describes it. */
export interface AttributeDecl {
  type: string;
  description?: string;
}

const isTarget = (target: string): target is TargetName => Object.hasOwn(TARGETS, target);

/** The writable fields of `target`, or undefined for an unknown target. */
export function targetFields(
  target: string,
  attributes: Readonly<Record<string, AttributeDecl>> = {},
): Readonly<Record<string, FieldSpec>> | undefined {
  if (!isTarget(target)) return undefined;
  const fields = TARGETS[target].fields;
  if (target !== 'customer') return fields;
  const extra: Record<string, FieldSpec> = {};
  for (const [name, decl] of Object.entries(attributes)) {
    if (Object.hasOwn(fields, name)) continue;
    extra[name] = { type: decl.type as FieldType, description: decl.description ?? `custom attribute ${name}` };
  }
  return { ...fields, ...extra };
}
