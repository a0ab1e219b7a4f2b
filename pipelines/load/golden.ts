/**
 * Survivorship: the golden record of a customer from all of its source records, field by
 * field, with the lineage of each value. Pure, and a function of the records only (never of
 * the order they were loaded in), so re-resolving a customer gives the same golden record.
 *
 * Rules (config `identity.survivorship`), among the records that have a non-empty value:
 * - `most_recent`: the record with the latest `updated_at` field;
 * - `first_non_null`: the record with the earliest `created_at` (else `updated_at`) field;
 * - `source_priority`: the first source of the rule's list that has a value (unlisted
 *   sources after all listed ones), the most recent record within a source.
 * Ties, and records without those times, fall back to the record name (`source/stream/key`).
 */
import type { JsonValue } from '../../connectors/types.js';
import { TARGETS } from '../model.js';
import type { RecordData } from '../resolve/plan.js';
import type { FieldRule, ResolveRules } from '../resolve/rules.js';

/** Where a golden value came from. */
export interface Lineage {
  source: string;
  stream: string;
  source_key: string;
  /** `mappings/FILE.yaml:line` of the field's definition, when the mapping stage said. */
  mapping: string | null;
  synced_at: string;
  rule: FieldRule['rule'];
}

export interface Golden {
  /** One entry per customer field of the model (null when no record has a value). */
  values: Record<string, JsonValue>;
  lineage: Record<string, Lineage>;
  attributes: Map<string, { value: JsonValue; lineage: Lineage }>;
}

function millis(v: JsonValue | undefined): number | null {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

interface Candidate {
  record: RecordData;
  value: JsonValue;
  updated: number | null;
  created: number | null;
}

const byRef = (a: Candidate, b: Candidate) => (a.record.ref < b.record.ref ? -1 : a.record.ref > b.record.ref ? 1 : 0);
const latestFirst = (a: Candidate, b: Candidate) => (b.updated ?? -Infinity) - (a.updated ?? -Infinity) || byRef(a, b);
const earliestFirst = (a: Candidate, b: Candidate) =>
  (a.created ?? a.updated ?? Infinity) - (b.created ?? b.updated ?? Infinity) || byRef(a, b);

function pick(candidates: Candidate[], rule: FieldRule): Candidate {
  if (rule.rule === 'first_non_null') return candidates.sort(earliestFirst)[0]!;
  if (rule.rule === 'most_recent') return candidates.sort(latestFirst)[0]!;
  const rank = (c: Candidate) => {
    const i = rule.sources.indexOf(c.record.source);
    return i < 0 ? rule.sources.length : i;
  };
  return candidates.sort((a, b) => rank(a) - rank(b) || latestFirst(a, b))[0]!;
}

function present(v: JsonValue | undefined): v is JsonValue {
  return v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');
}

/** The golden record of a customer whose records are `records`. */
export function golden(records: readonly RecordData[], rules: ResolveRules): Golden {
  const values: Record<string, JsonValue> = {};
  const lineage: Record<string, Lineage> = {};
  const attributes = new Map<string, { value: JsonValue; lineage: Lineage }>();
  // Times parsed once per record, not once per field.
  const feeding = records
    .filter((r) => r.fields !== null)
    .map((record) => ({ record, updated: millis(record.fields!.updated_at), created: millis(record.fields!.created_at) }));
  const choose = (field: string, accepts: (r: RecordData) => boolean): { value: JsonValue; lineage: Lineage } | null => {
    const candidates: Candidate[] = [];
    for (const { record, updated, created } of feeding) {
      const value = record.fields![field];
      if (!present(value) || !accepts(record)) continue;
      candidates.push({ record, value, updated, created });
    }
    if (candidates.length === 0) return null;
    const rule = rules.fieldRules.get(field) ?? { rule: 'most_recent', sources: [] };
    const best = pick(candidates, rule);
    const origin = best.record.origins?.[field];
    return {
      value: best.value,
      lineage: {
        source: best.record.source,
        stream: best.record.stream,
        source_key: best.record.sourceKey,
        mapping: origin ? `${origin.file}:${origin.line}` : null,
        synced_at: best.record.syncedAt,
        rule: rule.rule,
      },
    };
  };
  for (const field of Object.keys(TARGETS.customer.fields)) {
    const chosen = choose(field, (r) => r.target === 'customer' || TARGETS[r.target].golden.includes(field));
    values[field] = chosen?.value ?? null;
    if (chosen) lineage[field] = chosen.lineage;
  }
  for (const name of rules.attributes.keys()) {
    const chosen = choose(name, (r) => r.target === 'customer');
    if (chosen) attributes.set(name, chosen);
  }
  return { values, lineage, attributes };
}
