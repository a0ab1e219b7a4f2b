/**
 * Identity keys as resolution handles them: one string `kind:value` (kind names are
 * `[a-z][a-z0-9_]*`, so the first `:` separates them), filtered by the rules, and the
 * advisory-lock stripe each key and record falls into.
 */
import type { JsonValue } from '../../connectors/types.js';
import type { IdentityKey } from '../types.js';
import { comparableName } from './names.js';
import type { ResolveRules } from './rules.js';

/** `kind:value`. */
export function encodeKey(kind: string, value: string): string {
  return `${kind}:${value}`;
}

export function decodeKey(key: string): IdentityKey {
  const at = key.indexOf(':');
  return { kind: key.slice(0, at), value: key.slice(at + 1) };
}

/**
 * The keys of a record that take part in resolution, sorted and without repeats: declared
 * kinds only, no empty or blocked values (the map stage drops blocked values already; this
 * is the last line, cheap, and keeps hand-built records honest).
 */
export function linkableKeys(identities: readonly IdentityKey[], rules: ResolveRules, fields?: Readonly<Record<string, JsonValue>>): string[] {
  const out: string[] = [];
  for (const { kind, value } of identities) {
    const rule = rules.kinds.get(kind);
    if (!rule || rule.derive || typeof value !== 'string') continue;
    const v = value.trim();
    if (v === '' || rule.blocked.has(v)) continue;
    const key = encodeKey(kind, v);
    if (!out.includes(key)) out.push(key); // a handful per record: cheaper than a Set
  }
  if (fields && rules.derived.length > 0) derivedKeys(out, rules, fields);
  return out.length > 1 ? out.sort() : out;
}

/**
 * Appends the derived keys of a record to its mapped keys `out`: `kind:<value>|<name>` for
 * each value of the kind it derives from and each person name in its fields (see
 * {@link comparableName}). A phone shared by a family stops linking; the same phone with
 * a name is one person's again.
 */
function derivedKeys(out: string[], rules: ResolveRules, fields: Readonly<Record<string, JsonValue>>): void {
  const mapped = out.length;
  for (const d of rules.derived) {
    const { from, fields: nameFields } = d.derive!;
    let names: string[] | undefined;
    for (let i = 0; i < mapped; i++) {
      const key = out[i]!;
      if (!key.startsWith(from) || key.charCodeAt(from.length) !== 58 /* : */) continue;
      names ??= [...new Set(nameFields.map((f) => comparableName(fields[f])).filter((n): n is string => n !== null))];
      for (const name of names) {
        const value = `${key.slice(from.length + 1)}|${name}`;
        const derived = encodeKey(d.kind, value);
        if (!d.blocked.has(value) && !out.includes(derived)) out.push(derived);
      }
    }
  }
}

/**
 * The lock stripe of a string (32-bit FNV-1a, modulo the stripe count). Only needs to
 * spread keys evenly and be the same in every worker; a crypto hash would cost more than
 * the rest of the key handling.
 */
export function lockStripe(text: string, stripes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % stripes;
}

/** `source/stream/key`: how records are named in evidence, errors and the CLI. */
export function recordRef(r: { source: string; stream: string; sourceKey: string }): string {
  return `${r.source}/${r.stream}/${r.sourceKey}`;
}
