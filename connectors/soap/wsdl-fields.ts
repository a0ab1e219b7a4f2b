/**
 * Reads the `soap` client's `describe()` tree: which operations a WSDL offers, what their
 * output looks like at a record path, and the field types of the records found there.
 * `describe()` gives, per operation, `{ input, output }` where a leaf is a type name such
 * as `xsd:dateTime`, a nested object is a complex type, and a key ending in `[]` repeats.
 */
import type { FieldInfo, FieldType } from '../types.js';

export type Description = { [key: string]: Description | string };

/** Keys `describe()` adds beside the elements of a complex type. */
const META_KEYS = new Set(['targetNSAlias', 'targetNamespace']);

/** Every operation of every service and port, by name. */
export function operations(described: unknown): Map<string, { input?: Description; output?: Description }> {
  const out = new Map<string, { input?: Description; output?: Description }>();
  if (!isObject(described)) return out;
  for (const service of Object.values(described)) {
    if (!isObject(service)) continue;
    for (const port of Object.values(service)) {
      if (!isObject(port)) continue;
      for (const [name, op] of Object.entries(port)) {
        if (isObject(op) && !out.has(name)) out.set(name, op as { input?: Description; output?: Description });
      }
    }
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The node at a dotted path in an output description, or undefined when a step is not
 * there (each step matches an element name with or without its `[]`).
 */
export function describedAt(output: Description | undefined, path: string): Description | string | undefined {
  let node: Description | string | undefined = output;
  for (const step of path.split('.')) {
    if (!isObject(node)) return undefined;
    node = node[step] ?? node[`${step}[]`];
  }
  return node;
}

/** XSD simple types: a record path cannot go on below one. anyType is not here: it may hold anything. */
const SIMPLE_TYPE = /^(string|normalizedString|token|boolean|decimal|float|double|integer|int|long|short|byte|unsigned(Long|Int|Short|Byte)|(negative|positive|nonNegative|nonPositive)Integer|dateTime|date|time|duration|base64Binary|hexBinary|anyURI|QName)$/;

/**
 * Why `path` is not in an output description: the first step that is not there, and what is;
 * undefined when the path is there or the description cannot tell (nothing described for the
 * operation, a node without described elements such as `xsd:any` content, an `anyType`).
 * Used to refuse a wrong `record_path`, which would otherwise read as an empty source.
 */
export function pathProblem(output: Description | undefined, path: string): string | undefined {
  let node: Description | string | undefined = output;
  const steps = path.split('.');
  for (const [i, step] of steps.entries()) {
    const at = i === 0 ? 'the response' : steps.slice(0, i).join('.');
    if (typeof node === 'string') {
      const local = (node.includes(':') ? node.slice(node.indexOf(':') + 1) : node).split('|')[0]!;
      return SIMPLE_TYPE.test(local) ? `${at} is a simple value (${node}), it has no element ${step}` : undefined;
    }
    if (!isObject(node)) return undefined;
    const children = Object.keys(node).filter((k) => !META_KEYS.has(k));
    if (children.length === 0) return undefined;
    const next: Description | string | undefined = node[step] ?? node[`${step}[]`];
    if (next === undefined) return `${at} has no element ${step} (it has ${children.map((k) => k.replace(/\[\]$/, '')).join(', ')})`;
    node = next;
  }
  return undefined;
}

/**
 * The JSON type a value of this XSD type has once the reader converted it (see
 * `records.ts`): times and decimals stay strings, so `xsd:decimal` is a string here.
 */
function fieldType(xsd: string): FieldType {
  const local = (xsd.includes(':') ? xsd.slice(xsd.indexOf(':') + 1) : xsd).split('|')[0]!;
  switch (local) {
    case 'dateTime':
      return 'datetime';
    case 'int':
    case 'short':
    case 'byte':
    case 'unsignedInt':
    case 'unsignedShort':
    case 'unsignedByte':
    case 'long':
    case 'integer':
      return 'integer';
    case 'double':
    case 'float':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'base64Binary':
    case 'hexBinary':
      return 'binary';
    default:
      return 'string';
  }
}

/**
 * Fields of the records described by `node` (the element at the record path). `describe()`
 * does not say which elements are optional, so every field but the key and the cursor is
 * reported nullable.
 */
export function describedFields(node: Description | string | undefined, required: readonly string[]): FieldInfo[] {
  if (!isObject(node)) return [];
  const fields: FieldInfo[] = [];
  for (const [rawName, child] of Object.entries(node)) {
    if (META_KEYS.has(rawName)) continue;
    const repeated = rawName.endsWith('[]');
    const name = repeated ? rawName.slice(0, -2) : rawName;
    const type: FieldType = repeated ? 'array' : typeof child === 'string' ? fieldType(child) : 'object';
    fields.push({ name, type, nullable: !required.includes(name) });
  }
  return fields;
}
