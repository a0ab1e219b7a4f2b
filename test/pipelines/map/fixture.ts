/**
 * Inline-YAML mappings for the map stage's tests: a small config (one postgres source, the
 * demo's identity rules, two typed attributes) plus the mapping under test, loaded through
 * the real `loadConfig` so that validation and positions are the production ones.
 */
import { expect } from 'vitest';
import type { SourceRecord } from '../../../connectors/types.js';
import { compileMapping, type CompiledMapping } from '../../../pipelines/map/compile.js';
import type { CompileOptions } from '../../../pipelines/map/expression.js';
import { mapRecord, type MapOutcome } from '../../../pipelines/map/map-batch.js';
import { load, yaml } from '../../config/yaml-fixtures.js';

export { yaml };

/** The config every case loads `m.yaml` with. */
export const CONFIG = yaml(`
  version: 1
  sources:
    shop:
      type: postgres
      url: postgres://127.0.0.1/db
      streams:
        accounts: { table: shop.accounts, key: id }
  mappings: [m.yaml]
  identity:
    default_region: CN
    kinds:
      crm_id: { priority: 100 }
      shop_account: { priority: 90 }
      email: { priority: 50, normalize: email, blocked: [test@test.com] }
      phone: { priority: 40, normalize: phone, blocked: ["13800000000"] }
  attributes:
    points: { type: integer }
    newsletter: { type: boolean }
    balance: { type: decimal }
`);

/** A mapping of `shop.accounts` to `target` with `fields` (a YAML block, indented by the caller or not). */
export function mappingYaml(target: string, fields: string, identity = ''): string {
  const body = yaml(fields)
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => `  ${l}`)
    .join('\n');
  return `version: 1\nsource: shop\nstream: accounts\ntarget: ${target}\nkey: id\n${identity}fields:\n${body}\n`;
}

/** `file:line:col CODE` of every error loading `m.yaml` (empty when it loads). */
export async function mappingErrors(mapping: string): Promise<string[]> {
  return (await load({ 'junction.yaml': CONFIG, 'm.yaml': mapping })).codes;
}

/** Loads and compiles `m.yaml`; fails the test with the errors when it does not load. */
export async function compileYaml(mapping: string, options: CompileOptions = {}): Promise<CompiledMapping> {
  const { config, errors } = await load({ 'junction.yaml': CONFIG, 'm.yaml': mapping });
  expect(errors).toEqual([]);
  const loaded = config!.mappings[0]!;
  return compileMapping(loaded, config!, options);
}

/** Maps one record. */
export async function mapOne(m: CompiledMapping, record: SourceRecord): Promise<MapOutcome> {
  return mapRecord(m, record);
}
