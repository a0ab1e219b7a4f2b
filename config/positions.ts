/**
 * Maps a path inside a YAML document (a zod issue path) to `line:col`, by walking the
 * `yaml` AST that `parseDocument` kept with its source ranges.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export type DocPath = readonly PropertyKey[];

/** A 1-based line and column. */
export interface Position {
  line: number;
  col: number;
}

/** Where to point: at the value (default) or at the key of the last path segment. */
export type Anchor = 'value' | 'key';

function startOf(node: Node | null | undefined): number | undefined {
  return node?.range?.[0];
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return key === null || key === undefined ? undefined : String(key);
}

/**
 * The offset of the node at `path`, or of the deepest existing ancestor when the path runs
 * out (a missing key reports its parent map, as the user must add the key there).
 */
export function offsetAt(doc: Document, path: DocPath, anchor: Anchor = 'value'): number {
  let node = doc.contents as Node | null;
  let offset = startOf(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc) ?? null;
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      // The last pair with the key: that is the one `toJS` keeps when keys repeat.
      const pair = [...node.items].reverse().find((p) => keyText(p.key) === String(segment));
      if (!pair) return offset;
      const keyOffset = startOf(pair.key as Node) ?? offset;
      if (last && anchor === 'key') return keyOffset;
      node = pair.value as Node | null;
      // `key:` with nothing after it: point at the key.
      offset = startOf(node) ?? keyOffset;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) return offset;
      node = item;
      offset = startOf(node) ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

/** `line:col` of the node at `path` (see {@link offsetAt}). */
export function positionAt(doc: Document, lineCounter: LineCounter, path: DocPath, anchor: Anchor = 'value'): Position {
  return lineCounter.linePos(offsetAt(doc, path, anchor));
}

/** The dotted form of a path, with list indexes in brackets: `schedules[1].cron`. */
export function formatPath(path: DocPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}

/** The value at `path` in plain data, and whether the last key exists. */
export function valueAt(data: unknown, path: DocPath): { found: boolean; value: unknown } {
  let value = data;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) {
      return { found: false, value: undefined };
    }
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return { found: true, value };
}

/** The path and text of the map key that starts at `offset` (a duplicate key yaml reported). */
export function keyAtOffset(doc: Document, offset: number): { path: DocPath; key: string } | undefined {
  const search = (node: unknown, path: DocPath): { path: DocPath; key: string } | undefined => {
    if (isAlias(node)) return undefined;
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = keyText(pair.key) ?? '';
        if (startOf(pair.key as Node) === offset) return { path: [...path, key], key };
        const found = search(pair.value, [...path, key]);
        if (found) return found;
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        const found = search(node.items[i], [...path, i]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return search(doc.contents, []);
}
