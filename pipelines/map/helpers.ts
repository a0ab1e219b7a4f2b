/**
 * The declarative field helpers (`trim`, enum `map`, `parse`, `normalize`, `default`) and the
 * final conversion of every value to its target field's type (pipelines/model.ts). A field's
 * helpers compile once into one function; it throws MAP_BAD_VALUE for a value it cannot
 * convert, which the batch turns into a RecordFailure unless the field has a `default`.
 *
 * Order: the expression's value → trim → blank is missing → map → parse → normalize →
 * type; `default` replaces a missing value and any value the steps cannot convert.
 */
import type { JsonValue } from '../../connectors/types.js';
import { JunctionError } from '../../config/errors.js';
import type { FieldSpec, FieldType } from '../model.js';
import { normalizeEmail, normalizePhone, type CountryCode } from '../normalize.js';
import { compileDateTime } from './datetime.js';

export type ParseKind = 'datetime' | 'number' | 'boolean' | 'json';
export type NormalizeKind = 'email' | 'phone';
type Scalar = string | number | boolean | null;

/** Field types each `parse:` may feed. */
export const PARSE_TYPES: Readonly<Record<ParseKind, readonly FieldType[]>> = {
  datetime: ['datetime', 'date'],
  number: ['integer', 'decimal'],
  boolean: ['boolean'],
  json: ['json'],
};

/** Field types each `normalize:` may feed (a string field may hold a normalized phone). */
export const NORMALIZE_TYPES: Readonly<Record<NormalizeKind, readonly FieldType[]>> = {
  email: ['email', 'string', 'text'],
  phone: ['phone', 'string', 'text'],
};

/** Field types that take `format:` and `timezone:`. */
export const TIME_TYPES: readonly FieldType[] = ['datetime', 'date'];

/** The helper options of one field, as the mapping file gives them. */
export interface FieldRule {
  map?: Readonly<Record<string, Scalar>>;
  /** `undefined`: no default; `null` is a default (tolerate missing or bad values as null). */
  default?: Scalar;
  parse?: ParseKind;
  format?: string;
  timezone?: string;
  normalize?: NormalizeKind;
  trim?: boolean;
}

export interface HelperContext {
  /** Region of phone numbers written without a country code (config `identity.default_region`). */
  region: CountryCode;
}

export type Converter = (value: unknown) => JsonValue;

const show = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

function bad(message: string): JunctionError {
  return new JunctionError('MAP_BAD_VALUE', message);
}

const DECIMAL = /^-?\d+(?:\.\d+)?$/;
/** Digits with optional thousands separators (`1,299.00`) and sign; nothing else (no `¥`, no `1.299,00`). */
const NUMBER_TEXT = /^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/;

function numberToDecimal(n: number): string {
  const text = String(n);
  if (!Number.isFinite(n) || /e/i.test(text)) throw bad(`${text} cannot be written as an exact decimal`);
  return text;
}

/** `parse: number`: text to a number (integer fields) or an exact decimal string (decimal fields). */
function parseNumber(value: unknown, integer: boolean): number | string {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') throw bad(`cannot read ${show(value)} as a number`);
  const m = NUMBER_TEXT.exec(value.trim());
  if (!m) throw bad(`cannot read ${show(value)} as a number (digits, an optional sign, . for decimals, , only between thousands)`);
  const digits = (m[2] as string).replaceAll(',', '').replace(/^0+(?=\d)/, '');
  const fraction = m[3];
  const zero = /^0*$/.test(digits) && /^0*$/.test(fraction ?? '');
  const sign = m[1] === '-' && !zero ? '-' : '';
  if (!integer) return `${sign}${digits}${fraction === undefined ? '' : `.${fraction}`}`;
  if (fraction !== undefined && /[^0]/.test(fraction)) throw bad(`${show(value)} is not an integer`);
  return Number(`${sign}${digits}`);
}

const TRUE_WORDS = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'f', 'no', 'n', '0']);

function parseBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const word = String(value).trim().toLowerCase();
  if ((typeof value === 'string' || typeof value === 'number') && TRUE_WORDS.has(word)) return true;
  if ((typeof value === 'string' || typeof value === 'number') && FALSE_WORDS.has(word)) return false;
  throw bad(`cannot read ${show(value)} as a boolean (true/false, yes/no, y/n, 1/0)`);
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch (cause) {
    throw new JunctionError('MAP_BAD_VALUE', `cannot read ${show(value)} as JSON`, { cause });
  }
}

/**
 * The last step: `value` to the field's type. Also checks `map` outputs and defaults at
 * load time (validate.ts), so a wrong default fails `junction check`, not a sync.
 */
export function typeConverter(spec: FieldSpec, rule: FieldRule, ctx: HelperContext): Converter {
  const values = spec.values ? new Set(spec.values) : undefined;
  const inValues = (text: string): string => {
    if (values && !values.has(text)) throw bad(`${show(text)} is not one of ${[...values].join(', ')}`);
    return text;
  };
  switch (spec.type) {
    case 'string':
    case 'text':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'string') return inValues(v);
        if (typeof v === 'number' || typeof v === 'boolean') return inValues(String(v));
        throw bad(`expected text, received ${show(v)}`);
      };
    case 'integer':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
        throw bad(`expected an integer, received ${show(v)}${typeof v === 'string' ? ' (add parse: number to read text)' : ''}`);
      };
    case 'decimal':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'number') return numberToDecimal(v);
        if (typeof v === 'string' && DECIMAL.test(v)) return v;
        throw bad(`expected a decimal, received ${show(v)}${typeof v === 'string' ? ' (add parse: number to read other text)' : ''}`);
      };
    case 'boolean':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'boolean') return v;
        throw bad(`expected a boolean, received ${show(v)}${typeof v === 'string' ? ' (add parse: boolean to read text)' : ''}`);
      };
    case 'datetime':
    case 'date': {
      const read = compileDateTime({ format: rule.format, timezone: rule.timezone, output: spec.type });
      return (v) => (v === null || v === undefined ? null : read(v));
    }
    case 'email':
      return (v) => {
        if (v === null || v === undefined) return null;
        const email = normalizeEmail(v);
        if (email === null) throw bad(`${show(v)} is not an email address`);
        return email;
      };
    case 'phone':
      return (v) => {
        if (v === null || v === undefined) return null;
        const phone = normalizePhone(v, ctx.region);
        if (phone === null) throw bad(`${show(v)} is not a valid phone number (default region ${ctx.region})`);
        return phone;
      };
    case 'json':
      return (v) => {
        if (v === undefined) return null;
        if (typeof v === 'function') throw bad('expected JSON, received a function');
        return v as JsonValue;
      };
  }
}

/**
 * The converter of `map` outputs and `default`s: they are unified values, so a time is
 * ISO-8601 whatever `format:` the source's values are read with (`default: 2000-01-01`
 * on a field with `format: dd.MM.yyyy`).
 */
export function unifiedConverter(spec: FieldSpec, rule: FieldRule, ctx: HelperContext): Converter {
  return typeConverter(spec, { ...rule, format: undefined }, ctx);
}

/** The key an enum `map` looks a value up by: YAML keys are strings, so numbers match `"1"`. */
function mapKey(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Compiles one field's helpers and type into a single converter (see the order above). */
export function compileField(spec: FieldSpec, rule: FieldRule, ctx: HelperContext): Converter {
  const toType = typeConverter(spec, rule, ctx);
  const unified = rule.format === undefined ? toType : unifiedConverter(spec, rule, ctx);
  const hasDefault = rule.default !== undefined;
  const fallback = hasDefault ? unified(rule.default) : null;
  const blankIsMissing = rule.trim === true || (spec.type !== 'string' && spec.type !== 'text');
  const map = rule.map;
  const integer = spec.type === 'integer';
  // normalize: email on an email field is what its type does anyway: do it once.
  const normalize = rule.normalize && rule.normalize !== spec.type ? rule.normalize : undefined;
  const region = ctx.region;

  return (raw) => {
    let value: unknown = raw === undefined ? null : raw;
    if (typeof value === 'string') {
      if (rule.trim) value = value.trim();
      if (blankIsMissing && (value as string).trim() === '') value = null;
    }
    if (value === null) return fallback;
    try {
      if (map) {
        const key = mapKey(value);
        if (key === undefined || !Object.hasOwn(map, key)) {
          throw bad(`${show(value)} is not in the field's map (${Object.keys(map).join(', ')})`);
        }
        return unified(map[key]);
      }
      if (rule.parse === 'number') value = parseNumber(value, integer);
      else if (rule.parse === 'boolean') value = parseBoolean(value);
      else if (rule.parse === 'json') value = parseJson(value);
      // parse: datetime is what a datetime field's type conversion does.
      if (normalize === 'email') {
        const email = normalizeEmail(value);
        if (email === null) throw bad(`${show(value)} is not an email address`);
        value = email;
      } else if (normalize === 'phone') {
        const phone = normalizePhone(value, region);
        if (phone === null) throw bad(`${show(value)} is not a valid phone number (default region ${region})`);
        value = phone;
      }
      return toType(value);
    } catch (err) {
      if (hasDefault && err instanceof JunctionError && err.code === 'MAP_BAD_VALUE') return fallback;
      throw err;
    }
  };
}
