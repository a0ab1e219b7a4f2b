/**
 * Lookup filters: a declared query document whose string values may hold
 * `{{params.NAME}}`. Substitution happens on the parsed document, never on JSON text, and
 * only ever produces scalars, so a caller cannot add operators or fields:
 * - a value that is exactly `{{params.NAME}}` becomes the parameter's value, type kept;
 * - a placeholder inside a longer string is replaced by the value's text;
 * - keys are never templates.
 * A 24-hex-digit string put whole under a field (`{ _id: '{{params.id}}' }`) matches the
 * field as that string or as the ObjectId it spells (`{ $in: [text, ObjectId] }`): a
 * document key read by a stream is the ObjectId's hex text, and passed back to a lookup it
 * would otherwise never match the ObjectId stored.
 * Parameters must be strings, numbers, booleans or null. Objects and arrays
 * (`{ $ne: null }`, `[...]`) and strings starting with `$` (an operator or a field path
 * wherever the value reaches an aggregation or `$regex`-style context) are refused with
 * CONN_UNSAFE_PARAM.
 */
import { ObjectId } from 'mongodb';
import { JunctionError } from '../../config/errors.js';
import { OBJECT_ID_HEX } from './checkpoint-key.js';

type Scalar = string | number | boolean | null;

const WHOLE = /^\{\{\s*params\.([A-Za-z_]\w*)\s*\}\}$/;
const ANY = /\{\{\s*params\.([A-Za-z_]\w*)\s*\}\}/g;

/** Checks one caller-supplied value. */
export function safeParam(name: string, value: unknown): Scalar {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
  } else if (typeof value === 'string') {
    if (!value.startsWith('$')) return value;
    throw new JunctionError('CONN_UNSAFE_PARAM', `lookup parameter ${name} starts with $, which MongoDB could read as an operator`, {
      details: { param: name },
    });
  }
  throw new JunctionError('CONN_UNSAFE_PARAM', `lookup parameter ${name} must be a string, number, boolean or null`, {
    details: { param: name, type: Array.isArray(value) ? 'array' : typeof value },
  });
}

function paramValue(name: string, params: Record<string, unknown>, declared: readonly string[]): Scalar {
  if (!declared.includes(name)) {
    throw new JunctionError('CONN_UNKNOWN_LOOKUP', `the filter uses {{params.${name}}}, which the lookup does not declare in params`);
  }
  if (!Object.hasOwn(params, name) || params[name] === undefined) {
    throw new JunctionError('CONN_UNKNOWN_LOOKUP', `missing lookup parameter ${name}`, { details: { param: name } });
  }
  return safeParam(name, params[name]);
}

/** The filter with every placeholder replaced by its (checked) parameter value. */
export function renderFilter(template: unknown, params: Record<string, unknown>, declared: readonly string[]): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole) return paramValue(whole[1]!, params, declared);
    return template.replace(ANY, (_m, name: string) => String(paramValue(name, params, declared)));
  }
  if (Array.isArray(template)) return template.map((v) => renderFilter(v, params, declared));
  if (template !== null && typeof template === 'object' && Object.getPrototypeOf(template) === Object.prototype) {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, k.startsWith('$') ? renderFilter(v, params, declared) : fieldValue(v, params, declared)]));
  }
  return template;
}

/** The value of a field: a whole placeholder spelling an ObjectId matches it as text or as the ObjectId. */
function fieldValue(template: unknown, params: Record<string, unknown>, declared: readonly string[]): unknown {
  const value = renderFilter(template, params, declared);
  if (typeof template === 'string' && WHOLE.test(template) && typeof value === 'string' && OBJECT_ID_HEX.test(value)) {
    return { $in: [value, ObjectId.createFromHexString(value)] };
  }
  return value;
}

/** The parameter names a filter template uses. */
export function placeholderParams(template: unknown, out = new Set<string>()): Set<string> {
  if (typeof template === 'string') {
    for (const m of template.matchAll(ANY)) out.add(m[1]!);
  } else if (template !== null && typeof template === 'object') {
    for (const v of Object.values(template)) placeholderParams(v, out);
  }
  return out;
}
