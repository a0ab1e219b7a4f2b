/** The committed JSON Schemas are generated from the zod schemas and up to date. */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { generateSchemas, staleSchemas } from '../../config/json-schema.js';
import { runCli } from '../helpers/cli.js';

describe('JSON Schema', () => {
  it('`junction schema --check` passes on the committed files', async () => {
    const result = await runCli(['schema', '--check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('detects a stale or missing file', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'junction-schema-'));
    mkdirSync(path.join(root, 'config'));
    mkdirSync(path.join(root, 'connectors'));
    // Both JSON Schemas and the connector reference.
    expect(await staleSchemas(root)).toHaveLength(3);
    for (const s of generateSchemas(root)) writeFileSync(s.file, s.text);
    expect(await staleSchemas(root)).toEqual([]);
    const [first] = generateSchemas(root);
    writeFileSync(first!.file, first!.text.replace('"additionalProperties": false', '"additionalProperties": true'));
    expect((await staleSchemas(root)).map((s) => s.file)).toEqual([first!.file]);
  });

  it('is deterministic: sorted keys, 2-space indent, trailing newline', () => {
    const [config] = generateSchemas();
    expect(config!.text).toBe(generateSchemas()[0]!.text);
    expect(config!.text.endsWith('}\n')).toBe(true);
    const json = JSON.parse(config!.text) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual([...Object.keys(json)].sort());
    expect(config!.text).toBe(`${JSON.stringify(json, null, 2)}\n`);
    // Strict objects, and keys with defaults are optional (io: input).
    expect(json.additionalProperties).toBe(false);
    expect(json.required).toEqual(['version', 'sources']);
  });

  it('is referenced from the committed YAML for editors', () => {
    const demo = readFileSync(path.join(PROJECT_ROOT, 'config/junction.yaml'), 'utf8');
    expect(demo.split('\n')[0]).toBe('# yaml-language-server: $schema=./junction.schema.json');
  });
});
