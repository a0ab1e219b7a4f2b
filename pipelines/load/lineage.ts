/**
 * The stored form of a golden record's lineage (`unified.customer.lineage`). Spelled out,
 * each field repeats its record's source, stream, key, time and mapping file (~180 bytes a
 * field, ~3 KB a customer): over PostgreSQL's 2 KB threshold, so every customer row written
 * was TOAST-compressed, and that JSON was most of what loading customers cost. Packed, each
 * record appears once and a field names it by index:
 *
 *   {"v": 2,
 *    "r": [["shop_pg", "addresses", "51136", "2026-11-22T19:12:58.295Z", "mappings/shop_pg.addresses.yaml"]],
 *    "f": {"city": [0, 15, "most_recent"], "address": [0, 17, "most_recent"]}}
 *
 * A field's mapping is its record's file and the line given (a string when the field was
 * defined in another file, null when the mapping stage did not say). Readers never see this
 * form: `unified.lineage_expanded(lineage)` (sql/postgres/008_lineage_packed.sql) gives the
 * spelled-out object back, which is what `customers show` and the agent's panel read.
 */
import type { Lineage } from './golden.js';

export interface PackedLineage {
  v: 2;
  /** source, stream, source_key, synced_at, mapping file (or null). */
  r: [string, string, string, string, string | null][];
  /** field → [index in r, line (or "file:line" or null), rule]. */
  f: Record<string, [number, number | string | null, Lineage['rule']]>;
}

/** A mapping has a few dozen field origins: each split once. */
const splitCache = new Map<string, [string, number] | null>();

/** `mappings/x.yaml:12` as [file, line]; null when it is not of that form. */
function splitMapping(mapping: string): [string, number] | null {
  let parts = splitCache.get(mapping);
  if (parts === undefined) {
    if (splitCache.size >= 10_000) splitCache.clear();
    parts = parseMapping(mapping);
    splitCache.set(mapping, parts);
  }
  return parts;
}

function parseMapping(mapping: string): [string, number] | null {
  const at = mapping.lastIndexOf(':');
  const line = Number(mapping.slice(at + 1));
  return at > 0 && Number.isInteger(line) && String(line) === mapping.slice(at + 1) ? [mapping.slice(0, at), line] : null;
}

export function packLineage(lineage: Readonly<Record<string, Lineage>>): PackedLineage {
  const r: PackedLineage['r'] = [];
  const f: PackedLineage['f'] = {};
  const index = new Map<string, number>();
  for (const field in lineage) {
    const l = lineage[field]!;
    const parts = l.mapping === null ? null : splitMapping(l.mapping);
    const id = `${l.source}\u0000${l.stream}\u0000${l.source_key}\u0000${l.synced_at}`;
    let i = index.get(id);
    if (i === undefined) {
      i = r.length;
      index.set(id, i);
      r.push([l.source, l.stream, l.source_key, l.synced_at, parts ? parts[0] : null]);
    }
    const file = r[i]![4];
    const where = l.mapping === null ? null : parts && (file === parts[0] || file === null) ? parts[1] : l.mapping;
    if (file === null && parts) r[i]![4] = parts[0];
    f[field] = [i, where, l.rule];
  }
  return { v: 2, r, f };
}

/** The spelled-out lineage (what `unified.lineage_expanded` returns), for tests and tools. */
export function unpackLineage(packed: PackedLineage): Record<string, Lineage> {
  const out: Record<string, Lineage> = {};
  for (const field in packed.f) {
    const [i, where, rule] = packed.f[field]!;
    const [source, stream, sourceKey, syncedAt, file] = packed.r[i]!;
    const mapping = typeof where === 'number' ? (file === null ? null : `${file}:${where}`) : where;
    out[field] = { source, stream, source_key: sourceKey, mapping, synced_at: syncedAt, rule };
  }
  return out;
}
