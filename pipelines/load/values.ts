/**
 * The load stage's gate: every mapped value must fit its unified column before a batch's
 * multi-row statements run, because one bad value would fail the whole statement. A record
 * that does not fit becomes a {@link RecordFailure} (`ID_INVALID_VALUE`); the batch goes on.
 */
import type { JsonValue } from '../../connectors/types.js';
import { TARGETS, type FieldSpec } from '../model.js';
import type { AttributeType, ResolveRules } from '../resolve/rules.js';
import type { MappedRecord, RecordFailure } from '../types.js';

const INTEGER = /^-?\d{1,18}$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Why `value` does not fit `type`, or null when it does (null values always fit). */
export function valueProblem(value: JsonValue, type: FieldSpec['type'] | AttributeType, values?: readonly string[]): string | null {
  if (value === null) return null;
  // Serialized only in the messages of refused values (orders carry large `lines`).
  const shown = () => JSON.stringify(value).slice(0, 60);
  switch (type) {
    case 'string':
    case 'text':
    case 'email':
    case 'phone':
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) return `expected ${type}, got ${shown()}`;
      if (values && !values.includes(String(value))) return `expected one of ${values.join(', ')}, got ${shown()}`;
      return null;
    case 'integer':
      return Number.isSafeInteger(value) || (typeof value === 'string' && INTEGER.test(value)) ? null : `expected integer, got ${shown()}`;
    case 'decimal':
      return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && DECIMAL.test(value)) ? null : `expected decimal, got ${shown()}`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `expected boolean, got ${shown()}`;
    case 'datetime':
      // Without an offset PostgreSQL would read the time in the session's zone: refuse.
      // A regex and Date.parse: luxon's parser costs more than the rest of the load stage's checks.
      // Year 0000 parses, but PostgreSQL has no year 0 (22008 would fail the whole batch).
      return typeof value === 'string' && ISO_DATETIME.test(value) && !Number.isNaN(Date.parse(value)) && new Date(value).getUTCFullYear() >= 1
        ? null
        : `expected an ISO-8601 datetime with offset, got ${shown()}`;
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !value.startsWith('0000') && !Number.isNaN(Date.parse(value)) ? null : `expected YYYY-MM-DD from the year 0001, got ${shown()}`;
    case 'json':
      return null;
  }
}

/**
 * Where `value` holds a string (a key included) that `bad` refuses, as a path (`.lines[2].sku`,
 * `` for the value itself), or null.
 */
function textPath(value: unknown, bad: (text: string) => boolean, at: string): string | null {
  if (typeof value === 'string') return bad(value) ? at : null;
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = textPath(value[i], bad, `${at}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  for (const key in value as Record<string, unknown>) {
    const found = bad(key) ? `${at}.${JSON.stringify(key)}` : textPath((value as Record<string, unknown>)[key], bad, `${at}.${key}`);
    if (found !== null) return found;
  }
  return null;
}

const hasNul = (text: string) => text.includes('\u0000');

/**
 * Where `value` holds U+0000, as a path, or null. PostgreSQL's text and jsonb cannot store
 * it (22021 / 22P05): one such string would fail the batch's multi-row statements, and
 * every retry of the batch after it.
 */
export function nulPath(value: unknown, at = ''): string | null {
  return textPath(value, hasNul, at);
}

/** A lone UTF-16 surrogate: half of a character (`"\ud83d"` from a source that cut an emoji in two). */
const LONE_SURROGATE = /\p{Cs}/u;
const hasLoneSurrogate = (text: string) => LONE_SURROGATE.test(text);

/**
 * Where `value` holds a lone surrogate, as a path, or null. It is not UTF-8: jsonb refuses
 * it (22P02, failing the batch like a NUL) and text would store U+FFFD in its place.
 */
export function surrogatePath(value: unknown, at = ''): string | null {
  return textPath(value, hasLoneSurrogate, at);
}

const NUL_PROBLEM = 'holds a NUL character (U+0000), which PostgreSQL cannot store; strip it in the mapping, e.g. $replace(x, "\\u0000", "")';
const SURROGATE_PROBLEM = 'holds a lone UTF-16 surrogate (half of a character, e.g. a string cut inside an emoji), which is not UTF-8; fix it at the source or drop it in the mapping';

const unstorable = (text: string) => hasNul(text) || hasLoneSurrogate(text);

/** Why a key, identity or field value cannot be stored as text, or null (one walk when it can). */
function textProblem(value: unknown): string | null {
  if (textPath(value, unstorable, '') === null) return null;
  const nul = nulPath(value);
  if (nul !== null) return `${nul} ${NUL_PROBLEM}`;
  const surrogate = surrogatePath(value);
  return surrogate === null ? null : `${surrogate} ${SURROGATE_PROBLEM}`;
}

/**
 * The most UTF-8 bytes of a source key or identity value. Both are indexed (source_record's
 * and customer_identity's primary keys), and a btree entry over ~2,700 bytes is refused
 * (54000), failing the batch's multi-row statements like a NUL would.
 */
export const MAX_KEY_BYTES = 2000;

/** Why a key or identity value is too long to index, or null. */
function lengthProblem(value: unknown): string | null {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no counting.
  if (typeof value !== 'string' || value.length * 3 <= MAX_KEY_BYTES) return null;
  const bytes = Buffer.byteLength(value, 'utf8');
  return bytes > MAX_KEY_BYTES ? ` is ${bytes} bytes long, over the ${MAX_KEY_BYTES} a key or identity value may have (it is indexed)` : null;
}

/** Splits a batch into records that fit the unified schema and failures. */
export function checkValues(records: readonly MappedRecord[], rules: ResolveRules): { ok: MappedRecord[]; failures: RecordFailure[] } {
  const ok: MappedRecord[] = [];
  const failures: RecordFailure[] = [];
  for (const r of records) {
    const spec = TARGETS[r.target] as (typeof TARGETS)[keyof typeof TARGETS] | undefined;
    const problems: string[] = [];
    const keyProblem = textProblem(r.sourceKey) ?? lengthProblem(r.sourceKey);
    if (keyProblem !== null) problems.push(`key${keyProblem}`);
    for (const k of r.identities) {
      const problem = textProblem(k.value) ?? lengthProblem(k.value);
      if (problem !== null) problems.push(`identity ${k.kind}${problem}`);
    }
    if (!spec) problems.push(`unknown target ${JSON.stringify(r.target)}`);
    else {
      for (const [field, value] of Object.entries(r.fields)) {
        const f = spec.fields[field];
        const attribute = r.target === 'customer' ? rules.attributes.get(field) : undefined;
        if (!f && !attribute) problems.push(`${field}: not a field of ${r.target} nor a declared attribute`);
        else {
          const problem = f ? valueProblem(value, f.type, f.values) : valueProblem(value, attribute!);
          const text = problem ? null : textProblem(value);
          if (problem) problems.push(`${field}: ${problem}`);
          else if (text !== null) problems.push(`${field}${text}`);
        }
      }
    }
    if (problems.length === 0) ok.push(r);
    else {
      failures.push({
        source: r.source,
        stream: r.stream,
        sourceKey: r.sourceKey,
        stage: 'load',
        code: 'ID_INVALID_VALUE',
        message: problems.join('; '),
        raw: r.raw,
        mappingVersion: r.mappingVersion,
      });
    }
  }
  return { ok, failures };
}
