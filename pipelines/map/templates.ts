/**
 * The expression shapes `expression.ts` reads without JSONata, recognised on JSONata's AST,
 * and their direct evaluators. Each evaluator handles records of the plain shape it assumes
 * and answers {@link NEEDS_JSONATA} for anything else (an array where an object is expected,
 * a scalar where items are expected, an array value inside a template), so that JSONata's
 * mapping and singleton rules never have to be imitated here.
 */
import type { SourceRecord } from '../../connectors/types.js';

/** What a direct evaluator returns when the record needs JSONata's semantics. */
export const NEEDS_JSONATA: unique symbol = Symbol('needs JSONata');

/** A recognised shape. */
export type Template =
  /** `a.b.c` */
  | { kind: 'path'; path: string[] }
  /**
   * `{'k': p, …}` (empty `path`), `a.b.{'k': p, …}` (one object per item of `a.b`), and
   * either wrapped in `[ ]` (`array`: always a list, even of one).
   */
  | { kind: 'template'; path: string[]; pairs: [string, string[]][]; array: boolean };

interface AstNode {
  type?: string;
  value?: unknown;
  steps?: AstNode[];
  expressions?: AstNode[];
  lhs?: AstNode[][];
  [key: string]: unknown;
}

/** A node whose keys are all in `allowed` (anything else — predicates, grouping, focus — is JSONata's). */
const only = (node: AstNode, allowed: readonly string[]) => Object.keys(node).every((k) => allowed.includes(k));

function nameStep(node: AstNode | undefined): string | undefined {
  return node && node.type === 'name' && typeof node.value === 'string' && only(node, ['type', 'value', 'position']) ? node.value : undefined;
}

function namePath(node: AstNode | undefined): string[] | undefined {
  if (!node) return undefined;
  const single = nameStep(node);
  if (single !== undefined) return [single];
  if (node.type !== 'path' || !Array.isArray(node.steps) || !only(node, ['type', 'steps', 'position'])) return undefined;
  const names = node.steps.map(nameStep);
  return names.every((n): n is string => n !== undefined) ? names : undefined;
}

function objectPairs(node: AstNode | undefined): [string, string[]][] | undefined {
  if (!node || node.type !== 'unary' || node.value !== '{' || !Array.isArray(node.lhs) || !only(node, ['type', 'value', 'position', 'lhs'])) {
    return undefined;
  }
  const pairs: [string, string[]][] = [];
  for (const pair of node.lhs) {
    const [key, value] = pair;
    if (!key || key.type !== 'string' || typeof key.value !== 'string' || pairs.some(([k]) => k === key.value)) return undefined;
    const path = namePath(value);
    if (!path) return undefined;
    pairs.push([key.value, path]);
  }
  return pairs;
}

/** The shape of a JSONata AST, when it is one of the directly readable ones. */
export function templateOf(ast: unknown): Template | undefined {
  let node = ast as AstNode;
  const path = namePath(node);
  if (path) return { kind: 'path', path };
  let array = false;
  if (node.type === 'unary' && node.value === '[' && node.expressions?.length === 1 && only(node, ['type', 'value', 'position', 'expressions'])) {
    array = true;
    node = node.expressions[0] as AstNode;
  }
  const pairs = objectPairs(node);
  if (pairs) return { kind: 'template', path: [], pairs, array };
  if (node.type !== 'path' || !Array.isArray(node.steps) || node.steps.length < 2 || !only(node, ['type', 'steps', 'position'])) return undefined;
  const head = namePath({ type: 'path', steps: node.steps.slice(0, -1) });
  const last = objectPairs(node.steps.at(-1));
  return head && last ? { kind: 'template', path: head, pairs: last, array } : undefined;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a plain path. Arrays before the last step are JSONata's business (it maps over them
 * and unwraps singletons); an array as the final value is returned as is, as JSONata does.
 */
export function directGetter(path: readonly string[]): (record: SourceRecord) => unknown {
  const [first, second] = path;
  if (path.length === 1 && first !== undefined) {
    return (record) => (Object.hasOwn(record, first) ? record[first] : undefined);
  }
  if (path.length === 2 && first !== undefined && second !== undefined) {
    return (record) => {
      if (!Object.hasOwn(record, first)) return undefined;
      const parent = record[first];
      if (parent === null || typeof parent !== 'object') return undefined;
      if (Array.isArray(parent)) return NEEDS_JSONATA;
      return Object.hasOwn(parent, second) ? parent[second] : undefined;
    };
  }
  return (record) => {
    let value: unknown = record;
    for (const step of path) {
      if (value === null || typeof value !== 'object') return undefined;
      if (Array.isArray(value)) return NEEDS_JSONATA;
      if (!Object.hasOwn(value, step)) return undefined;
      value = (value as Record<string, unknown>)[step];
    }
    return value;
  };
}

/** The items a template builds objects from: [] when the path is absent. */
function itemsAt(record: SourceRecord, path: readonly string[]): unknown[] | typeof NEEDS_JSONATA {
  let value: unknown = record;
  for (const step of path) {
    if (!isPlainObject(value)) return NEEDS_JSONATA;
    if (!Object.hasOwn(value, step)) return [];
    value = value[step];
  }
  if (isPlainObject(value)) return [value];
  if (Array.isArray(value) && value.every(isPlainObject)) return value;
  return NEEDS_JSONATA;
}

/** Evaluates a `template` shape (see {@link Template}). */
export function templateGetter(t: Extract<Template, { kind: 'template' }>): (record: SourceRecord) => unknown {
  const getters = t.pairs.map(([key, path]) => [key, directGetter(path)] as const);
  return (record) => {
    const items = itemsAt(record, t.path);
    if (items === NEEDS_JSONATA) return NEEDS_JSONATA;
    const out: Record<string, unknown>[] = [];
    for (const item of items) {
      const obj: Record<string, unknown> = {};
      for (const [key, get] of getters) {
        const value = get(item as SourceRecord);
        if (value === NEEDS_JSONATA || Array.isArray(value)) return NEEDS_JSONATA;
        if (value !== undefined) obj[key] = value;
      }
      out.push(obj);
    }
    if (t.array) return out;
    return out.length === 0 ? undefined : out.length === 1 ? out[0] : out;
  };
}
