/**
 * A loaded mapping (config/load.ts already validated it) compiled once into what the map
 * stage runs per record: expressions (direct access for plain paths, JSONata otherwise),
 * each field's helper chain, and each identity key's normalizer and blocked values.
 */
import { JunctionError } from '../../config/errors.js';
import type { DeepReadonly, LoadedMapping } from '../../config/load.js';
import type { MappingField } from '../../config/mapping-schema.js';
import type { TargetName } from '../model.js';
import { isPhoneRegion, normalizeEmail, normalizePhone, type CountryCode } from '../normalize.js';
import type { FieldOrigin } from '../types.js';
import { sha256Json } from './canonical-json.js';
import { compileExpression, type CompileOptions, type Expr } from './expression.js';
import { compileField, type Converter, type FieldRule } from './helpers.js';
import { targetFields, type AttributeDecl } from './target-fields.js';

/** An identity kind's rules, as config `identity.kinds` declares them. */
export interface IdentityKindRule {
  readonly normalize: 'email' | 'phone' | 'none';
  readonly blocked: readonly string[];
}

/** The parts of the resolved config that mapping needs. */
export interface MapConfig {
  readonly identity: {
    readonly default_region: string;
    readonly kinds: Readonly<Record<string, IdentityKindRule>>;
  };
  readonly attributes?: Readonly<Record<string, AttributeDecl>>;
}

export interface CompiledField {
  readonly name: string;
  /** Undefined for a constant (a field with only a `default`). */
  readonly expr: Expr | undefined;
  readonly convert: Converter;
}

export interface CompiledIdentity {
  readonly kind: string;
  readonly expr: Expr;
  /** The kind's normal form, or null for a value that cannot be one (dropped). */
  readonly normalize: (value: unknown) => string | null;
  /** Normalized blocked values of the kind (placeholders such as test@test.com). */
  readonly blocked: ReadonlySet<string>;
}

export interface CompiledMapping {
  readonly source: string;
  readonly stream: string;
  readonly target: TargetName;
  /** The mapping file as shown to users. */
  readonly file: string;
  /** `<file>@<hash>`, stored with mapped records and dead letters. */
  readonly version: string;
  readonly key: Expr;
  readonly fields: readonly CompiledField[];
  readonly identities: readonly CompiledIdentity[];
  /** Per field, where it is defined; one frozen object shared by every mapped record. */
  readonly origins: Readonly<Record<string, FieldOrigin>>;
  /** Lines of the key and of each identity entry, for errors. */
  readonly lines: { readonly key: number; readonly identity: readonly number[] };
}

/** Identity values of kinds without `normalize`: trimmed text; numbers as their digits. */
function plainKey(value: unknown): string | null {
  if (typeof value === 'string') {
    const text = value.trim();
    return text === '' ? null : text;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function identityNormalizer(rule: IdentityKindRule, region: CountryCode): (value: unknown) => string | null {
  switch (rule.normalize) {
    case 'email':
      return normalizeEmail;
    case 'phone':
      return (value) => normalizePhone(value, region);
    case 'none':
      return plainKey;
  }
}

function fieldParts(def: DeepReadonly<MappingField>): { text: string | undefined; asPath: boolean; rule: FieldRule } {
  if (typeof def === 'string') return { text: def, asPath: false, rule: {} };
  return { text: def.expr ?? def.from, asPath: def.expr === undefined && def.from !== undefined, rule: def };
}

/**
 * The mapping's version (`file@hash` of its data) made to cover the config it is compiled
 * with too: the default region (phones), the normalization and blocked values of the identity
 * kinds it writes, and the types of the attributes it fills. A record whose source did not
 * change is skipped while its version stays the same, so a value newly `blocked` (or another
 * region) must give a new version to reach it.
 */
function configuredVersion(version: string, mapping: DeepReadonly<LoadedMapping>['mapping'], config: MapConfig): string {
  const at = version.lastIndexOf('@');
  const kinds = Object.fromEntries(
    [...new Set(mapping.identity.map((i) => i.kind))].sort().map((kind) => {
      const rule = config.identity.kinds[kind];
      return [kind, rule ? { normalize: rule.normalize, blocked: [...rule.blocked] } : null];
    }),
  );
  const attributes = Object.fromEntries(Object.keys(mapping.fields).sort().flatMap((f) => (config.attributes && Object.hasOwn(config.attributes, f) ? [[f, config.attributes[f]!.type]] : [])));
  const uses = { mapping: version.slice(at + 1), region: config.identity.default_region, kinds, attributes };
  return `${version.slice(0, at)}@${sha256Json(uses).slice(0, 12)}`;
}

/**
 * Compiles a loaded mapping against the config's identity rules.
 * @throws JunctionError when the mapping does not fit the config (loadConfig reports these
 * with positions first; this only guards mappings built by hand).
 */
export function compileMapping(loaded: DeepReadonly<LoadedMapping>, config: MapConfig, options: CompileOptions = {}): CompiledMapping {
  const { mapping, info } = loaded;
  const where = { file: info.file };
  const region = config.identity.default_region;
  if (!isPhoneRegion(region)) throw new JunctionError('CFG_INVALID_VALUE', `identity.default_region ${region} is not a known region`);
  const specs = targetFields(mapping.target, config.attributes);
  if (!specs) throw new JunctionError('MAP_UNKNOWN_FIELD', `unknown target ${mapping.target}`, { where });

  const fields: CompiledField[] = [];
  const origins: Record<string, FieldOrigin> = {};
  for (const [name, def] of Object.entries(mapping.fields)) {
    // Own properties only: `constructor` or `toString` are not fields.
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) throw new JunctionError('MAP_UNKNOWN_FIELD', `${mapping.target} has no field ${name}`, { where });
    const { text, asPath, rule } = fieldParts(def);
    fields.push({
      name,
      expr: text === undefined ? undefined : compileExpression(text, options, asPath),
      convert: compileField(spec, rule, { region }),
    });
    origins[name] = Object.freeze({ file: info.file, line: info.lines.fields[name] ?? 0 });
  }

  const identities = mapping.identity.map(({ kind, value }): CompiledIdentity => {
    const rule = config.identity.kinds[kind];
    if (!rule) throw new JunctionError('MAP_UNKNOWN_IDENTITY', `identity kind ${kind} is not declared in identity.kinds`, { where });
    const normalize = identityNormalizer(rule, region);
    const blocked = new Set(rule.blocked.map((b) => normalize(b) ?? b.trim()));
    return { kind, expr: compileExpression(value, options), normalize, blocked };
  });

  return {
    source: mapping.source,
    stream: mapping.stream,
    target: mapping.target,
    file: info.file,
    version: configuredVersion(info.version, mapping, config),
    key: compileExpression(mapping.key, options),
    fields,
    identities,
    origins: Object.freeze(origins),
    lines: { key: info.lines.key, identity: info.lines.identity },
  };
}
