/**
 * The JSON Schemas editors use to complete and check the YAML files (yaml-language-server
 * reads the `# yaml-language-server: $schema=…` line). Generated from the zod schemas so they
 * cannot drift; `junction schema --check` fails CI when the committed files are stale.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { PROJECT_ROOT } from './env.js';
import { mappingSchema } from './mapping-schema.js';
import { configSchema } from './schema.js';
import { renderConnectorReference } from '../connectors/reference.js';

export interface GeneratedSchema {
  /** Absolute path of the committed file. */
  file: string;
  /** Its exact expected content. */
  text: string;
}

/** Object keys sorted recursively so the output does not depend on declaration order. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}

function render(schema: z.ZodType): string {
  // io 'input': what the author writes, so keys with defaults are optional. draft-07 is the
  // draft editors' YAML tooling supports best.
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-07', unrepresentable: 'any' });
  return `${JSON.stringify(sortKeys(json), null, 2)}\n`;
}

/**
 * The generated files, with their content from the current zod schemas: the two JSON
 * Schemas and the connector reference (connectors/README.md).
 */
export function generateSchemas(root: string = PROJECT_ROOT): GeneratedSchema[] {
  return [
    { file: path.join(root, 'config', 'junction.schema.json'), text: render(configSchema) },
    { file: path.join(root, 'config', 'mapping.schema.json'), text: render(mappingSchema) },
    { file: path.join(root, 'connectors', 'README.md'), text: renderConnectorReference() },
  ];
}

/** The generated schemas whose file under `root` is missing or differs. */
export async function staleSchemas(root: string = PROJECT_ROOT): Promise<GeneratedSchema[]> {
  const stale: GeneratedSchema[] = [];
  for (const schema of generateSchemas(root)) {
    const current = await readFile(schema.file, 'utf8').catch(() => undefined);
    if (current !== schema.text) stale.push(schema);
  }
  return stale;
}
