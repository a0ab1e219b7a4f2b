/**
 * Canonical JSON (object keys sorted, no whitespace) and its SHA-256: the payload hash that
 * lets `load` skip unchanged records, and the mapping version label. Two records with the
 * same content hash the same whatever order the source returned their fields in.
 */
import crypto from 'node:crypto';
import { JunctionError } from '../../config/errors.js';
import { CUT_MARKER, cutStandIn, MAX_JSON_DEPTH, setMember } from '../../connectors/json.js';

export { CUT_MARKER };

/**
 * How deep a record may nest (the record itself is level 1): the connectors' limit, past
 * which they cut a record ({@link CUT_MARKER}). A record past it is broken or hostile;
 * walking it recursively would exhaust the stack (JSON.stringify does at ~5,000 levels),
 * failing the whole batch on every run instead of that one record.
 */
export const MAX_RECORD_DEPTH = MAX_JSON_DEPTH;

/**
 * JSON text with every object's keys in code-unit order. Hand-written rather than
 * `JSON.stringify` with a sorting replacer: that one allocates a sorted copy of every object
 * (it runs on each record of every batch). `undefined` members are left out, as JSON does.
 * @param limit how deep `value` may nest; config data (a mapping's version) passes Infinity
 * @throws JunctionError MAP_RECORD_TOO_DEEP when objects and arrays nest deeper than `limit`
 */
export function canonicalJson(value: unknown, limit = MAX_RECORD_DEPTH, depth = 0): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (++depth > limit) {
    throw new JunctionError('MAP_RECORD_TOO_DEEP', `nested deeper than ${limit} levels`);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i], limit, depth);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = obj[key];
    if (member === undefined || typeof member === 'function') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member, limit, depth)}`;
    first = false;
  }
  return `${out}}`;
}

/** Lower-case hex SHA-256 of the canonical JSON of `value` ({@link canonicalJson}'s `limit`). */
export function sha256Json(value: unknown, limit = MAX_RECORD_DEPTH): string {
  // The one-shot crypto.hash skips the Hash object: ~0.7 µs instead of ~1.7 µs per record.
  return crypto.hash('sha256', canonicalJson(value, limit), 'hex');
}

/**
 * A copy of `value` down to {@link MAX_RECORD_DEPTH} levels, each container below that
 * replaced by the connectors' stand-in (`{ "$junction_cut": "…" }`, itself one level too
 * deep): what a dead letter keeps of a record too deep to store. Connectors already cut
 * what they read; this is for records that come another way (a replayed letter, a test).
 * Iterative: `value` may be nested far deeper than the stack allows.
 */
export function cutDeep(value: unknown): unknown {
  const marker = cutStandIn();
  // As JSON.stringify does: a Date (or anything with toJSON) stands for what it gives.
  const plain = (v: unknown): unknown => (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON: () => unknown }).toJSON() : v);
  const copyOf = (v: unknown): unknown => (v === null || typeof v !== 'object' ? v : Array.isArray(v) ? [] : {});
  const top = plain(value);
  const root = copyOf(top);
  const work: { from: object; to: Record<string, unknown> | unknown[]; depth: number }[] = [];
  if (root !== top) work.push({ from: top as object, to: root as Record<string, unknown>, depth: 1 });
  for (let item = work.pop(); item; item = work.pop()) {
    const { from, to, depth } = item;
    for (const [key, value] of Object.entries(from)) {
      const member = plain(value);
      if (member === undefined || typeof member === 'function') {
        if (Array.isArray(to)) to.push(null); // as JSON writes it
        continue;
      }
      let copy = copyOf(member);
      if (copy !== member) {
        if (depth >= MAX_RECORD_DEPTH) copy = marker;
        else work.push({ from: member as object, to: copy as Record<string, unknown>, depth: depth + 1 });
      }
      if (Array.isArray(to)) to.push(copy);
      else setMember(to, key, copy);
    }
  }
  return root;
}
