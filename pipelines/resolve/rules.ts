/**
 * Identity rules as resolution uses them, built once from the config's `identity:` and
 * `attributes:` sections: which kinds link and in which order, blocked values in their
 * normal form, cardinality caps, and the survivorship rule of every golden field.
 */
import type { DeepReadonly } from '../../config/load.js';
import type { AttributeConfig, IdentityConfig, SurvivorshipConfig } from '../../config/schema.js';
import { JunctionError } from '../../config/errors.js';
import { TARGETS } from '../model.js';
import { isPhoneRegion, normalizeEmail, normalizePhone } from '../normalize.js';
import { comparableName } from './names.js';

export interface KindRule {
  kind: string;
  /** Higher first: the order in which keys link, which decides between pinned customers. */
  priority: number;
  /** At most this many distinct holders may share a value for it to link; null: no cap. */
  cap: number | null;
  /** Values (normal form) that never link. */
  blocked: ReadonlySet<string>;
  /** For a capped kind: the kinds whose ids tell holders apart; null: every uncapped kind. */
  countBy: readonly string[] | null;
  /**
   * A kind resolution derives instead of reading it from mappings: each value of `from`
   * with each person name found in `fields` (see {@link derivedKeys}); null: a mapped kind.
   */
  derive: { from: string; fields: readonly string[] } | null;
}

/** A kind as config declares it (`derive` optional, so inline test rules need not name it). */
type IdentityKindInput = Omit<IdentityConfig['kinds'][string], 'derive'> & { derive?: IdentityConfig['kinds'][string]['derive'] };

export type SurvivorshipRuleName = 'source_priority' | 'most_recent' | 'first_non_null';

export interface FieldRule {
  rule: SurvivorshipRuleName;
  /** Source ranking for `source_priority`, best first; unlisted sources rank after. */
  sources: readonly string[];
}

export type AttributeType = AttributeConfig['type'];

export interface ResolveRules {
  /** Declared kinds; keys of other kinds are ignored (they link nothing). */
  kinds: ReadonlyMap<string, KindRule>;
  /** Kind names by priority (highest first), then name: the order keys link in. */
  linkOrder: readonly string[];
  /** The derived kinds (subset of `kinds`), in link order. */
  derived: readonly KindRule[];
  /** Survivorship rule per golden field and attribute. */
  fieldRules: ReadonlyMap<string, FieldRule>;
  /** Declared custom attributes and their types. */
  attributes: ReadonlyMap<string, AttributeType>;
  /**
   * Advisory-lock stripes keys are hashed into. Locks are taken per stripe, not per key: a
   * batch has tens of thousands of keys and PostgreSQL's lock table only a few thousand slots.
   * @defaultValue 256
   */
  lockStripes: number;
}

/** The parts of a resolved config the rules come from (a `ResolvedConfig` is one). */
export type RulesSource = DeepReadonly<{
  identity: Pick<IdentityConfig, 'default_region'> & { kinds: Record<string, IdentityKindInput> } & { survivorship?: SurvivorshipConfig };
  attributes?: Record<string, AttributeConfig>;
}>;

/** The value `blocked:` entries are compared in: the same normal form as the keys. */
function normalizeBlocked(value: string, normalize: 'email' | 'phone' | 'none', region: string): string[] {
  const trimmed = value.trim();
  if (normalize === 'email') return [trimmed, normalizeEmail(trimmed) ?? trimmed];
  if (normalize === 'phone' && isPhoneRegion(region)) return [trimmed, normalizePhone(trimmed, region) ?? trimmed];
  return [trimmed];
}

/** Builds the rules from config (or from an inline object in tests). */
export function resolveRules(source: RulesSource, options: { lockStripes?: number } = {}): ResolveRules {
  const { identity } = source;
  const kinds = new Map<string, KindRule>();
  for (const [kind, k] of Object.entries(identity.kinds)) {
    // A derived kind's values are `<value of its kind>|<comparable name>`: each part in its normal form.
    const from = k.derive ? identity.kinds[k.derive.kind] : undefined;
    const normal = (b: string): string[] => {
      if (!from) return normalizeBlocked(b, k.normalize, identity.default_region);
      const at = b.lastIndexOf('|');
      if (at < 0) return [b.trim()];
      const name = comparableName(b.slice(at + 1)) ?? b.slice(at + 1).trim();
      return normalizeBlocked(b.slice(0, at), from.normalize, identity.default_region).map((v) => `${v}|${name}`);
    };
    const blocked = new Set(k.blocked.flatMap(normal));
    const derive = k.derive ? { from: k.derive.kind, fields: [...k.derive.fields] } : null;
    kinds.set(kind, { kind, priority: k.priority, cap: k.cardinality_cap ?? null, blocked, countBy: k.cardinality_by ?? null, derive });
  }
  const linkOrder = [...kinds.values()].sort((a, b) => b.priority - a.priority || a.kind.localeCompare(b.kind)).map((k) => k.kind);
  // Resolution keeps the uncapped kinds of an anchor as bits of a 32-bit integer.
  if ([...kinds.values()].filter((k) => k.cap === null).length > 30) {
    throw new JunctionError('CFG_INVALID_VALUE', 'identity.kinds: at most 30 kinds without cardinality_cap are supported', { where: { path: 'identity.kinds' } });
  }

  const surv = identity.survivorship;
  const attributes = new Map(Object.entries(source.attributes ?? {}).map(([name, a]) => [name, a.type] as const));
  const fieldRules = new Map<string, FieldRule>();
  for (const field of [...Object.keys(TARGETS.customer.fields), ...attributes.keys()]) {
    const own = surv?.fields[field];
    fieldRules.set(field, {
      rule: own?.rule ?? surv?.default ?? 'most_recent',
      sources: own?.sources ?? surv?.sources ?? [],
    });
  }
  const lockStripes = options.lockStripes ?? 256;
  if (!Number.isInteger(lockStripes) || lockStripes < 1) throw new RangeError(`lockStripes must be a positive integer, got ${lockStripes}`);
  const derived = linkOrder.map((k) => kinds.get(k)!).filter((k) => k.derive !== null);
  return { kinds, linkOrder, derived, fieldRules, attributes, lockStripes };
}
