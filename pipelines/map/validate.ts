/**
 * Load-time checks of a mapping file against the unified model (pipelines/model.ts) and
 * JSONata: unknown target fields, helpers that do not fit a field's type, enum values,
 * expression syntax. Runs from `loadConfig` on the raw data next to the zod schema (each
 * field is checked on its own, so one broken field does not hide the others' errors, and a
 * field the schema refuses keeps the checks of its well-typed keys) and
 * reports `mappings/FILE.yaml:line:col` with MAP_ codes. Source, stream and identity kind
 * references are checked by config/references.ts.
 */
import { JunctionError, type ErrorCode } from '../../config/errors.js';
import { errorAt, type IssueSource } from '../../config/issues.js';
import { mappingFieldSchema, type MappingFieldObject } from '../../config/mapping-schema.js';
import { formatPath, positionAt, type DocPath } from '../../config/positions.js';
import type { FieldSpec } from '../model.js';
import { isPhoneRegion } from '../normalize.js';
import { sha256Json } from './canonical-json.js';
import { formatHasZone, formatProblem } from './datetime.js';
import { compileExpression, ExprSyntaxError } from './expression.js';
import { NORMALIZE_TYPES, PARSE_TYPES, TIME_TYPES, unifiedConverter, type HelperContext } from './helpers.js';
import { positionInScalar } from './scalar-position.js';
import { targetFields, type AttributeDecl } from './target-fields.js';

/** Where a mapping's parts are defined, for lineage, and which version of it this is. */
export interface MappingSourceInfo {
  /** The file as stored in lineage: relative to the config's and mappings' common directory, never the cwd. */
  file: string;
  /** `<file>@<first 12 hex digits of the SHA-256 of its data>`. */
  version: string;
  lines: {
    key: number;
    /** Line of each field's definition. */
    fields: Record<string, number>;
    /** Line of each identity entry. */
    identity: number[];
  };
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined);

/**
 * The version label hashes the mapping's data (after `${VAR}` interpolation), not its text:
 * a comment edit is the same mapping, and a changed variable is not.
 */
function mappingVersion(src: IssueSource, label: string): string {
  // Config, not a record: no depth limit (a mapping nested too deep gets its schema error instead).
  return `${label}@${sha256Json(src.data, Infinity).slice(0, 12)}`;
}

function sourceInfo(src: IssueSource, label: string): MappingSourceInfo {
  const line = (path: DocPath) => positionAt(src.doc, src.lineCounter, path, 'key').line;
  const data = rec(src.data) ?? {};
  const fields: Record<string, number> = {};
  for (const name of Object.keys(rec(data.fields) ?? {})) fields[name] = line(['fields', name]);
  const identity = Array.isArray(data.identity) ? data.identity.map((_, i) => positionAt(src.doc, src.lineCounter, ['identity', i]).line) : [];
  return { file: label, version: mappingVersion(src, label), lines: { key: line(['key']), fields, identity } };
}

/** The object form of a field definition: the second member of the field schema's union. */
const fieldObjectSchema = mappingFieldSchema.options[1];

/**
 * The keys of a field object the schema refused that are each well-typed on their own (an
 * unknown zone must not hide a syntax error in the expression), and those that are not.
 * Unknown keys are in neither.
 */
function wellTypedKeys(def: Rec): { f: MappingFieldObject; broken: Set<string> } {
  const shape = fieldObjectSchema.shape;
  const f: Rec = {};
  const broken = new Set<string>();
  for (const [key, value] of Object.entries(def)) {
    if (!Object.hasOwn(shape, key)) continue;
    const parsed = shape[key as keyof typeof shape].safeParse(value);
    if (parsed.success) f[key] = parsed.data;
    else broken.add(key);
  }
  return { f: f as MappingFieldObject, broken };
}

class Checker {
  readonly errors: JunctionError[] = [];

  constructor(
    readonly src: IssueSource,
    readonly ctx: HelperContext,
  ) {}

  add(code: ErrorCode, message: string, path: DocPath, anchor: 'key' | 'value' = 'value'): void {
    this.errors.push(errorAt(this.src, code, message, path, anchor));
  }

  expression(path: DocPath, text: unknown, asPath = false): void {
    if (typeof text !== 'string' || text.length === 0) return; // the schema reports it
    try {
      compileExpression(text, {}, asPath);
    } catch (err) {
      if (!(err instanceof ExprSyntaxError)) throw err;
      const { line, col } = positionInScalar(this.src, path, err.index);
      const origin = err.jsonataCode === 'PATH' ? '' : ` (JSONata ${err.jsonataCode})`;
      this.errors.push(
        new JunctionError('MAP_EXPR_SYNTAX', `${err.message}${origin}`, {
          cause: err,
          where: { file: this.src.file, line, col, path: formatPath(path) },
        }),
      );
    }
  }

  field(name: string, def: unknown, spec: FieldSpec | undefined): void {
    const at: DocPath = ['fields', name];
    if (typeof def === 'string') {
      this.expression(at, def);
      return;
    }
    const parsed = mappingFieldSchema.safeParse(def);
    let f: MappingFieldObject;
    let broken = new Set<string>();
    if (parsed.success) {
      if (typeof parsed.data === 'string') return;
      f = parsed.data;
    } else {
      // The schema reports what it refused; the rest is still checked.
      const raw = rec(def);
      if (!raw) return;
      ({ f, broken } = wellTypedKeys(raw));
    }
    this.expression([...at, 'expr'], f.expr);
    this.expression([...at, 'from'], f.from, true);
    if (!spec) return;
    this.helpers(name, f, spec, broken);
    // `map` outputs and `default` are converted with the zone: unknown, it decides nothing.
    if (!broken.has('timezone')) this.values(name, f, spec);
  }

  /** `broken`: keys given but refused by the schema (present, so not reported missing). */
  helpers(name: string, f: MappingFieldObject, spec: FieldSpec, broken: ReadonlySet<string> = new Set()): void {
    const at: DocPath = ['fields', name];
    const fits = `${name} is of type ${spec.type}`;
    if (f.parse && !PARSE_TYPES[f.parse].includes(spec.type)) {
      this.add('MAP_TYPE_MISMATCH', `parse: ${f.parse} does not fit: ${fits} (it feeds ${PARSE_TYPES[f.parse].join(' or ')})`, [...at, 'parse']);
    }
    if (f.normalize && !NORMALIZE_TYPES[f.normalize].includes(spec.type)) {
      this.add('MAP_TYPE_MISMATCH', `normalize: ${f.normalize} does not fit: ${fits} (it feeds ${NORMALIZE_TYPES[f.normalize].join(', ')})`, [
        ...at,
        'normalize',
      ]);
    }
    for (const key of ['format', 'timezone'] as const) {
      if (f[key] !== undefined && !TIME_TYPES.includes(spec.type)) {
        this.add('MAP_TYPE_MISMATCH', `${key} applies to datetime and date fields: ${fits}`, [...at, key]);
      }
    }
    const problem = f.format !== undefined && TIME_TYPES.includes(spec.type) ? formatProblem(f.format, spec.type === 'date' ? 'date' : 'datetime') : null;
    if (problem) this.add('MAP_BAD_FORMAT', problem, [...at, 'format']);
    else if (spec.type === 'datetime' && f.format !== undefined && !f.timezone && !broken.has('timezone') && !formatHasZone(f.format)) {
      this.add('MAP_MISSING_TIMEZONE', `format ${JSON.stringify(f.format)} has no zone token: add timezone: (the zone its times are written in)`, [
        ...at,
        'format',
      ]);
    }
  }

  /** `map` outputs and `default` are unified values: they must already fit the field. */
  values(name: string, f: MappingFieldObject, spec: FieldSpec): void {
    const at: DocPath = ['fields', name];
    let toType: (v: unknown) => unknown;
    try {
      toType = unifiedConverter(spec, f, this.ctx);
    } catch {
      return; // an unknown timezone: reported by the schema
    }
    const check = (value: unknown, path: DocPath) => {
      if (value === null) return;
      try {
        toType(value);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const isEnum = spec.values !== undefined && ['string', 'number', 'boolean'].includes(typeof value);
        this.add(isEnum ? 'MAP_BAD_ENUM' : 'MAP_TYPE_MISMATCH', message, path); // the path leads the formatted error already
      }
    };
    for (const [key, value] of Object.entries(f.map ?? {})) check(value, [...at, 'map', key]);
    if (f.default !== undefined) check(f.default, [...at, 'default']);
  }
}

/**
 * Checks a mapping file (raw data, positions kept) against the model and the config it is
 * loaded with (`attributes:` for customer fields, `identity.default_region`).
 * @param label the file as lineage and the version name it (defaults to the file as shown in errors)
 * @returns every error found, and the positions and version the compiled mapping keeps
 */
export function checkMappingSource(config: unknown, src: IssueSource, label = src.file): { errors: JunctionError[]; info: MappingSourceInfo } {
  const identity = rec(rec(config)?.identity);
  const region = typeof identity?.default_region === 'string' && isPhoneRegion(identity.default_region) ? identity.default_region : 'CN';
  const attributes = (rec(rec(config)?.attributes) ?? {}) as Record<string, AttributeDecl>;
  const checker = new Checker(src, { region });
  const m = rec(src.data);
  if (m) {
    checker.expression(['key'], m.key);
    if (Array.isArray(m.identity)) m.identity.forEach((entry, i) => checker.expression(['identity', i, 'value'], rec(entry)?.value));
    const specs = typeof m.target === 'string' ? targetFields(m.target, attributes) : undefined;
    for (const [name, def] of Object.entries(rec(m.fields) ?? {})) {
      // Own properties only: `constructor` or `toString` are not fields.
      const spec = specs && Object.hasOwn(specs, name) ? specs[name] : undefined;
      if (specs && !spec) {
        const known = Object.keys(specs).join(', ');
        checker.add('MAP_UNKNOWN_FIELD', `${String(m.target)} has no field ${JSON.stringify(name)} (fields: ${known})`, ['fields', name], 'key');
      }
      checker.field(name, def, spec);
    }
  }
  return { errors: checker.errors, info: sourceInfo(src, label) };
}
