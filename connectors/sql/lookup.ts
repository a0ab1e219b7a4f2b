/**
 * Declared lookups (`lookups:` of a postgres or oracle source): a parameterised query whose
 * `:name` parameters are always bound. Parameter values must be plain scalars: an object or
 * array is refused before anything reaches the database, and a string such as `' OR 1=1 --`
 * is just a string.
 */
import { JunctionError } from '../../config/errors.js';
import type { LookupResult, SourceRecord } from '../types.js';
import type { SqlDialect } from './dialects.js';
import { prepareLookup, type PreparedLookup } from './query-builder.js';

/** A lookup as the shared `sqlLookup()` schema resolves it. */
export interface SqlLookupConfig {
  readonly description?: string | undefined;
  readonly params: readonly string[];
  readonly timeout_ms: number;
  readonly query: string;
}

export interface LookupPlan {
  readonly name: string;
  readonly prepared: PreparedLookup;
  readonly timeoutMs: number;
}

export type ScalarParam = string | number | boolean | bigint | null;

/** Prepares a lookup; every `:name` in its query must be listed in `params`. @throws CFG_INVALID_VALUE */
export function planLookup(source: string, dialect: SqlDialect, name: string, config: SqlLookupConfig): LookupPlan {
  const prepared = prepareLookup(dialect, config.query);
  const undeclared = prepared.names.filter((n) => !config.params.includes(n));
  if (undeclared.length > 0) {
    throw new JunctionError('CFG_INVALID_VALUE', `lookup ${name}: query uses ${undeclared.map((n) => `:${n}`).join(', ')} but params lists only [${config.params.join(', ')}]`, {
      where: { source },
    });
  }
  return { name, prepared, timeoutMs: config.timeout_ms };
}

function isScalar(value: unknown): value is ScalarParam {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value));
}

/**
 * The values to bind, in the lookup's parameter order.
 * @throws CONN_UNKNOWN_LOOKUP for a missing parameter, CONN_UNSAFE_PARAM for a non-scalar one
 */
export function lookupParams(source: string, plan: LookupPlan, params: Record<string, unknown>): Record<string, ScalarParam> {
  const out: Record<string, ScalarParam> = {};
  for (const name of plan.prepared.names) {
    if (!Object.hasOwn(params, name) || params[name] === undefined) {
      throw new JunctionError('CONN_UNKNOWN_LOOKUP', `lookup ${plan.name} needs parameter ${name}`, { where: { source }, details: { lookup: plan.name, param: name } });
    }
    const value = params[name];
    if (!isScalar(value)) {
      // Never echo the value: it may be an operator object crafted to probe the source.
      throw new JunctionError('CONN_UNSAFE_PARAM', `lookup ${plan.name}: parameter ${name} must be a string, number, boolean or null, not ${Array.isArray(value) ? 'an array' : typeof value}`, {
        where: { source },
        details: { lookup: plan.name, param: name },
      });
    }
    out[name] = value;
  }
  return out;
}

/** No row: null; one row: the record; several: all of them, in the query's order. */
export function lookupResult(rows: SourceRecord[]): LookupResult {
  if (rows.length === 0) return null;
  return rows.length === 1 ? rows[0]! : rows;
}
