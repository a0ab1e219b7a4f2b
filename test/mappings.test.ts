/**
 * The committed mappings (mappings/*.yaml): every one loads and compiles with zero errors,
 * every demo stream has one, and mapping each stream's generated demo records (no services:
 * demo/seed rows shaped as the connectors emit them) gives no failures, values of the
 * model's types and at least one identity key per record.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/env.js';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import { MAPPING_TARGETS } from '../config/mapping-schema.js';
import { TARGETS, type FieldSpec } from '../pipelines/model.js';
import { compileMapping } from '../pipelines/map/compile.js';
import { DEMO_STREAMS, estateRecords, type DemoStream } from '../pipelines/map/estate-records.js';
import { mapBatch } from '../pipelines/map/map-batch.js';
import type { MapResult } from '../pipelines/types.js';

let config: ResolvedConfig;
const results = new Map<DemoStream, MapResult>();

beforeAll(async () => {
  config = await loadConfig(path.join(PROJECT_ROOT, 'config', 'junction.yaml'), { env: {}, relativeTo: PROJECT_ROOT });
  const estate = estateRecords({ scale: 400, seed: 'mappings-test' });
  for (const loaded of config.mappings) {
    const compiled = compileMapping(loaded, config);
    const stream = `${compiled.source}.${compiled.stream}` as DemoStream;
    results.set(stream, await mapBatch(compiled, compiled.source, compiled.stream, estate[stream]));
  }
});

/** True when `value` has the form the model promises for `spec`. */
function conforms(value: unknown, spec: FieldSpec): boolean {
  if (value === null) return true;
  if (spec.values && !spec.values.includes(value as string)) return false;
  switch (spec.type) {
    case 'string':
    case 'text':
      return typeof value === 'string';
    case 'integer':
      return Number.isSafeInteger(value);
    case 'decimal':
      return typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'datetime':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value);
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);
    case 'email':
      return typeof value === 'string' && value === value.trim().toLowerCase() && value.includes('@');
    case 'phone':
      return typeof value === 'string' && /^\+[1-9]\d{6,14}$/.test(value);
    case 'json':
      return true;
  }
}

describe('committed mappings', () => {
  it('load with zero errors, one per demo stream, with versions and field lines', () => {
    expect(config.mappings.map((m) => `${m.mapping.source}.${m.mapping.stream}`).sort()).toEqual([...DEMO_STREAMS].sort());
    for (const m of config.mappings) {
      expect(m.info.file).toBe(`mappings/${path.basename(m.file)}`);
      expect(m.info.version).toMatch(/^mappings\/[a-z_.]+\.yaml@[0-9a-f]{12}$/);
      expect(Object.keys(m.info.lines.fields)).toEqual(Object.keys(m.mapping.fields));
      for (const line of Object.values(m.info.lines.fields)) expect(line).toBeGreaterThan(5);
    }
  });

  it('have the same versions and lineage files whichever directory loads them (stored in every source_record)', async () => {
    const elsewhere = await loadConfig(path.join(PROJECT_ROOT, 'config', 'junction.yaml'), { env: {}, relativeTo: path.join(PROJECT_ROOT, 'config') });
    expect(elsewhere.mappings.map((m) => [m.info.file, m.info.version])).toEqual(config.mappings.map((m) => [m.info.file, m.info.version]));
  });

  it('the schema targets are the model targets', () => {
    expect([...MAPPING_TARGETS].sort()).toEqual(Object.keys(TARGETS).sort());
  });

  it.each(DEMO_STREAMS)('%s: the demo records map without failures, typed per the model, each with an identity key', (stream) => {
    const result = results.get(stream)!;
    expect(result.failures).toEqual([]);
    expect(result.records.length).toBeGreaterThan(50);
    const fields = TARGETS[result.records[0]!.target].fields;
    for (const record of result.records) {
      expect(record.identities.length, `${stream} ${record.sourceKey} has no identity key`).toBeGreaterThan(0);
      for (const [name, value] of Object.entries(record.fields)) {
        expect(conforms(value, fields[name]!), `${stream} ${record.sourceKey} ${name}=${JSON.stringify(value)}`).toBe(true);
      }
    }
  });

  it('see through the estate’s mess: phones and emails normalized, placeholders not keys', () => {
    const keys = [...results.values()].flatMap((r) => r.records.flatMap((rec) => rec.identities));
    expect(keys.filter((k) => k.kind === 'phone').every((k) => /^\+86\d{11}$/.test(k.value))).toBe(true);
    expect(keys.filter((k) => k.kind === 'email').every((k) => k.value === k.value.trim().toLowerCase())).toBe(true);
    expect(keys.some((k) => k.value === 'test@test.com' || k.value === '+8613800000000')).toBe(false);
  });

  it('orders point at their customer by CRM number, tickets and addresses by shop account', () => {
    const kinds = (stream: DemoStream) => new Set(results.get(stream)!.records.flatMap((r) => r.identities.map((k) => k.kind)));
    expect(kinds('orders_soap.orders')).toEqual(new Set(['crm_id', 'phone']));
    expect(kinds('tickets_php.tickets')).toEqual(new Set(['email', 'phone', 'shop_account']));
    expect(kinds('shop_pg.addresses')).toEqual(new Set(['shop_account']));
    const order = results.get('orders_soap.orders')!.records[0]!;
    expect(Array.isArray(order.fields.lines)).toBe(true);
    expect((order.fields.lines as unknown[])[0]).toEqual({ sku: expect.any(String), name: expect.any(String), qty: expect.any(Number), unit_price: expect.stringMatching(/^\d+\.\d{2}$/) });
  });
});
