/**
 * `junction mapping preview` through the real CLI against the live shop_pg source (the
 * stack's estate database): the records it shows are the source's first ones in cursor
 * order, and each mapped row and identity list is what the map stage gives for it.
 */
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings, withDatabase } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import type { SourceRecord } from '../../connectors/types.js';
import { compileMapping } from '../../pipelines/map/compile.js';
import { mapRecord } from '../../pipelines/map/map-batch.js';
import { seedFixture } from '../demo/estate-fixture.js';
import { runCli } from '../helpers/cli.js';

// The child must see the demo defaults (the stack's estate), not the developer's shell.
const cleanEnv = { ORDERS_WSDL_URL: '', TICKETS_URL: '', SHOP_PG_URL: '', APP_MONGO_URL: '', ORACLE_URL: '' };

interface Row {
  sourceKey: string | null;
  source: SourceRecord;
  mapped: Record<string, unknown> | null;
  identities: { kind: string; value: string }[];
  error: { code: string; message: string } | null;
}

let db: pg.Client;

beforeAll(async () => {
  const settings = stackSettings();
  db = new pg.Client({ connectionString: withDatabase(settings.services.postgres.url, settings.estateDatabase) });
  await db.connect();
  // Read-only test: seed the shared fixture estate only when there is nothing to read.
  const count = await db.query('SELECT count(*)::int AS n FROM shop.accounts').catch(() => ({ rows: [{ n: 0 }] }));
  if (count.rows[0].n === 0) await (await seedFixture()).db.end();
});

afterAll(async () => {
  await db?.end();
});

describe('junction mapping preview (live shop_pg)', () => {
  it('--limit 3 --json: the first three accounts, mapped, with their identity keys', async () => {
    const result = await runCli(['mapping', 'preview', 'mappings/shop_pg.accounts.yaml', '--limit', '3', '--json'], cleanEnv);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { source: string; stream: string; target: string; records: Row[] };
    expect(printed).toMatchObject({ source: 'shop_pg', stream: 'accounts', target: 'customer' });
    const rows = printed.records;

    const first = await db.query('SELECT id::text AS id FROM shop.accounts ORDER BY updated_at, id LIMIT 3');
    expect(rows.map((r) => r.sourceKey)).toEqual(first.rows.map((r: { id: string }) => r.id));

    const config = await loadConfig(path.join(PROJECT_ROOT, 'config', 'junction.yaml'), { relativeTo: PROJECT_ROOT });
    const compiled = compileMapping(config.mappings.find((m) => m.mapping.source === 'shop_pg' && m.mapping.stream === 'accounts')!, config);
    for (const row of rows) {
      expect(row.source.id).toBe(row.sourceKey);
      const outcome = await mapRecord(compiled, row.source);
      expect(outcome.ok).toBe(true);
      if (!outcome.ok) continue;
      expect(row).toEqual({ sourceKey: outcome.record.sourceKey, source: row.source, mapped: outcome.record.fields, identities: outcome.record.identities, error: null });
      expect(row.identities[0]).toEqual({ kind: 'shop_account', value: row.sourceKey });
      if (row.mapped?.phone !== null) expect(row.mapped?.phone).toMatch(/^\+86\d{11}$/);
    }
  });

  it('prints source, mapped row and identity keys per record for people', async () => {
    const result = await runCli(['mapping', 'preview', 'mappings/shop_pg.addresses.yaml', '-n', '2'], cleanEnv);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^shop_pg\.addresses → customer {2}\(mappings\/shop_pg\.addresses\.yaml@[0-9a-f]{12}\)/);
    expect(result.stdout.match(/^#\d key=\d+$/gm)).toHaveLength(2);
    expect(result.stdout.match(/^ {2}identity: shop_account=\d+$/gm)).toHaveLength(2);
    expect(result.stdout).toContain('2 record(s): 2 mapped, 0 failed');
  });
});
