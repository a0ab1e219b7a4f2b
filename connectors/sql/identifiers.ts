/**
 * Identifiers (tables, columns) are the only parts of generated SQL that cannot be bound, so
 * they pass a strict pattern before they are quoted. Quoting keeps them exactly as written:
 * `"updated_at"` in PostgreSQL, `"UPDATED_AT"` in Oracle — write them as the database stores
 * them (Oracle's unquoted names are upper case).
 */
import { JunctionError } from '../../config/errors.js';

/** One identifier: a letter or `_`, then letters, digits, `_` or `$`; at most 128 characters. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,127}$/;

/** `table` or `schema.table`, each part an {@link IDENTIFIER}. */
export type QualifiedName = readonly [string] | readonly [string, string];

function refuse(what: string, value: string, source: string): never {
  throw new JunctionError('CFG_INVALID_VALUE', `invalid ${what} ${JSON.stringify(value)}: expected letters, digits, _ or $ (no quotes, spaces or punctuation)`, {
    where: { source },
  });
}

/** Checks one column name. @throws CFG_INVALID_VALUE naming it */
export function checkIdentifier(value: string, what: string, source: string): string {
  if (!IDENTIFIER.test(value)) refuse(what, value, source);
  return value;
}

/** Splits and checks `schema.table`. @throws CFG_INVALID_VALUE naming it */
export function parseTableName(value: string, source: string): QualifiedName {
  const parts = value.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) refuse('table name', value, source);
  return parts as unknown as QualifiedName;
}

/** `"name"`: only ever called on names that passed {@link IDENTIFIER}, so no escaping is needed. */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new JunctionError('CFG_INVALID_VALUE', `refusing to quote identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** `"schema"."table"`. */
export function quoteTable(name: QualifiedName): string {
  return name.map(quoteIdentifier).join('.');
}
