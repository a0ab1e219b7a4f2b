/**
 * `${VAR}` interpolation in YAML scalar strings, before validation:
 *
 * - `${VAR}`: the variable's value; unset is an error (CFG_ENV_MISSING).
 * - `${VAR:-default}`: the default when VAR is unset or empty.
 * - `${VAR:+word}`: `word` when VAR is set and non-empty, else the empty string.
 * - `$${`: a literal `${`.
 *
 * Results stay strings (fields that take env values, like `enabled` or ports, accept strings).
 */
import { isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { DocPath } from './positions.js';

/** The environment variables interpolation reads. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface InterpolationProblem {
  kind: 'missing' | 'malformed';
  /** The variable name, or the malformed reference text. */
  name: string;
}

export interface InterpolationResult {
  value: string;
  problems: InterpolationProblem[];
  /** Variables whose value was used, with that value. */
  used: { name: string; value: string }[];
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const INNER = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\+)([\s\S]*))?$/;

/** Interpolates one string. */
export function interpolate(text: string, env: Env): InterpolationResult {
  const problems: InterpolationProblem[] = [];
  const used: { name: string; value: string }[] = [];
  const value = text.replace(REFERENCE, (whole, inner: string | undefined) => {
    if (inner === undefined) return '${';
    const m = INNER.exec(inner);
    if (!m) {
      problems.push({ kind: 'malformed', name: whole });
      return '';
    }
    const [, name = '', operator, word = ''] = m;
    const current = env[name];
    const present = current !== undefined && current !== '';
    if (operator === ':-') {
      if (!present) return word;
    } else if (operator === ':+') {
      return present ? word : '';
    } else if (current === undefined) {
      problems.push({ kind: 'missing', name });
      return '';
    }
    used.push({ name, value: current ?? '' });
    return current ?? '';
  });
  return { value, problems, used };
}

export interface ScalarProblem extends InterpolationProblem {
  /** Source offset of the scalar. */
  offset: number;
  path: DocPath;
}

/**
 * Interpolates every string scalar value (not keys) of a parsed document in place, so the
 * AST keeps each scalar's original position for error messages.
 */
export function interpolateDocument(
  doc: Document,
  env: Env,
): { problems: ScalarProblem[]; used: { name: string; value: string }[] } {
  const problems: ScalarProblem[] = [];
  const used: { name: string; value: string }[] = [];
  const visit = (node: unknown, path: DocPath): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      const result = interpolate(node.value, env);
      node.value = result.value;
      used.push(...result.used);
      const offset = (node as Node).range?.[0] ?? 0;
      for (const problem of result.problems) problems.push({ ...problem, offset, path });
    }
  };
  visit(doc.contents, []);
  return { problems, used };
}
