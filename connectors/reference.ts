/**
 * The connector reference (`connectors/README.md`), generated from the specs so that it
 * cannot drift from what the loader accepts. `junction schema --write` writes it and
 * `junction schema --check` (run by `npm test`) fails when it is stale.
 */
import * as z from 'zod';
import { stringify } from 'yaml';
import { connectorSpecs } from './index.js';
import type { ConnectorSpec } from './spec.js';

type Json = { [key: string]: unknown };

interface Row {
  key: string;
  type: string;
  required: boolean;
  default: string;
  description: string;
}

const asObj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});

/** A short human type for a JSON Schema node: `string`, `integer 1..64`, `"12c" \| "11g"`… */
function typeOf(node: Json): string {
  if ('const' in node) return JSON.stringify(node.const);
  if (Array.isArray(node.enum)) return node.enum.map((e) => JSON.stringify(e)).join(' \\| ');
  const variants = (node.anyOf ?? node.oneOf) as Json[] | undefined;
  if (variants) return variants.map((v) => typeOf(asObj(v))).join(' \\| ');
  if (node.type === 'array') {
    if (Array.isArray(node.prefixItems)) return `[${(node.prefixItems as Json[]).map(typeOf).join(', ')}]`;
    return `list of ${typeOf(asObj(node.items))}`;
  }
  if (node.type === 'object') return node.properties ? 'object' : 'map';
  const range = [node.minimum, node.maximum].some((v) => v !== undefined) ? ` ${node.minimum ?? ''}..${node.maximum ?? ''}` : '';
  return `${String(node.type ?? 'any')}${range}`;
}

/** Rows for every property of an object node, descending into nested objects, maps and variants. */
function rows(node: Json, prefix: string, out: Row[]): void {
  const props = asObj(node.properties);
  const required = new Set((node.required as string[] | undefined) ?? []);
  for (const [name, raw] of Object.entries(props)) {
    const child = asObj(raw);
    const key = `${prefix}${name}`;
    out.push({
      key,
      type: typeOf(child),
      required: required.has(name),
      default: child.default === undefined ? '' : JSON.stringify(child.default),
      description: String(child.description ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' '),
    });
    descend(child, key, out);
  }
}

function descend(child: Json, key: string, out: Row[]): void {
  if (child.properties) rows(child, `${key}.`, out);
  const map = asObj(child.additionalProperties);
  if (child.type === 'object' && !child.properties && Object.keys(map).length) {
    const name = key.endsWith('streams') ? '<stream>' : key.endsWith('lookups') ? '<lookup>' : '<name>';
    rows(map, `${key}.${name}.`, out);
    for (const v of ((map.anyOf ?? map.oneOf) as Json[] | undefined) ?? []) rows(asObj(v), `${key}.${name}.`, out);
  }
  const variants = (child.anyOf ?? child.oneOf) as Json[] | undefined;
  for (const v of variants ?? []) if (asObj(v).properties) rows(asObj(v), `${key}.`, out);
  const items = asObj(child.items);
  if (items.properties) rows(items, `${key}[].`, out);
}

function table(list: Row[]): string {
  const seen = new Set<string>();
  const unique = list.filter((r) => {
    const id = `${r.key}|${r.type}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  const lines = unique.map((r) => `| \`${r.key}\` | ${r.type} | ${r.required ? 'yes' : ''} | ${r.default ? `\`${r.default}\`` : ''} | ${r.description} |`);
  return ['| option | type | required | default | description |', '|---|---|---|---|---|', ...lines].join('\n');
}

/** The whole connectors/README.md. */
export function renderConnectorReference(): string {
  const parts = [
    '# Connector reference',
    '',
    '<!-- Generated from the connector specs by `junction schema --write`; do not edit by hand. -->',
    '',
    'A source in `config/junction.yaml` is `sources.<name>` with a `type:` below. Every object is',
    'strict (unknown keys are errors). String values may use `${VAR}`, `${VAR:-default}` and',
    '`${VAR:+word}`; secret options are redacted in every message and log line.',
    '',
    ...connectorSpecs.map((s) => `- [\`${s.type}\`](#${s.type}): ${s.summary}`),
    '',
  ];
  for (const spec of connectorSpecs) {
    const json = asObj(z.toJSONSchema(spec.config, { io: 'input', target: 'draft-07', unrepresentable: 'any' }));
    const list: Row[] = [];
    rows(json, '', list);
    parts.push(`## ${spec.type}`, '', spec.summary, '', table(list), '');
    const notes = (spec as ConnectorSpec).notes ?? [];
    if (notes.length) parts.push('### Notes', '', ...notes.map((n) => `- ${n}`), '');
    parts.push('### Example', '', '```yaml');
    for (const example of spec.examples) parts.push(stringify({ sources: { [`my_${spec.type}`]: example } }).trimEnd());
    parts.push('```', '');
  }
  return `${parts.join('\n').trimEnd()}\n`;
}
