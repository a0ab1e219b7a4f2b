/**
 * The source-facing CLI against the live estate: `junction read`, `junction discover` and
 * the connectivity table of `junction check`.
 */
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackSettings, withDatabase } from '../../config/env.js';
import { runCli } from '../helpers/cli.js';

const settings = stackSettings();
const estateUrl = withDatabase(settings.services.postgres.url, settings.estateDatabase);

async function estateQuery<T>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: estateUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  const [row] = await estateQuery<{ ok: boolean }>(`SELECT to_regclass('tickets_legacy.tickets') IS NOT NULL AS ok`);
  if (!row?.ok) {
    const { seedEstate } = await import('../../demo/seed/seed-estate.js');
    await seedEstate({ scale: 300, settings });
  }
});

describe('junction read / discover / check (live estate)', () => {
  it('read --json prints the first tickets in (updated_at, id) order with Chinese text decoded from GBK', async () => {
    const res = await runCli(['read', 'tickets_php.tickets', '--limit', '3', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const { records } = JSON.parse(res.stdout) as { records: { id: string; subject: string }[] };
    const expected = await estateQuery<{ id: string; subject: string }>('SELECT id::text, subject FROM tickets_legacy.tickets ORDER BY updated_at, id LIMIT 3');
    expect(records.map((r) => [String(r.id), r.subject])).toEqual(expected.map((r) => [r.id, r.subject]));
    expect(expected.some((r) => /[\u4e00-\u9fff]/.test(r.subject))).toBe(true);
  });

  it('read --after resumes strictly after the printed checkpoint', async () => {
    const first = await runCli(['read', 'shop_pg.accounts', '--limit', '2']);
    expect(first.code, first.stderr).toBe(0);
    const checkpoint = /checkpoint: (\{.*\})/.exec(first.stderr)![1]!;
    const next = await runCli(['read', 'shop_pg.accounts', '--limit', '2', '--json', '--after', checkpoint]);
    expect(next.code, next.stderr).toBe(0);
    const printed = JSON.parse(next.stdout) as { records: { id: string }[]; checkpoint: { cursor: unknown; key: unknown } };
    const expected = await estateQuery<{ id: string }>('SELECT id::text FROM shop.accounts ORDER BY updated_at, id OFFSET 2 LIMIT 4');
    expect(printed.records.map((r) => String(r.id))).toEqual(expected.slice(0, 2).map((r) => r.id));
    // The checkpoint --json prints resumes as the one on stderr does.
    const third = await runCli(['read', 'shop_pg.accounts', '--limit', '2', '--json', '--after', JSON.stringify(printed.checkpoint)]);
    expect(third.code, third.stderr).toBe(0);
    expect((JSON.parse(third.stdout) as { records: { id: string }[] }).records.map((r) => String(r.id))).toEqual(expected.slice(2).map((r) => r.id));
  });

  it('read names what exists when the stream is unknown', async () => {
    const res = await runCli(['read', 'shop_pg.acounts']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('[CONN_UNKNOWN_STREAM]');
    expect(res.stderr).toContain('accounts');
  });

  it('discover lists streams with typed fields', async () => {
    const res = await runCli(['discover', 'shop_pg', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const { streams } = JSON.parse(res.stdout) as { streams: { name: string; fields: { name: string; type: string }[] }[] };
    const accounts = streams.find((s) => s.name === 'accounts')!;
    expect(accounts.fields.find((f) => f.name === 'updated_at')?.type).toBe('datetime');
    expect(accounts.fields.find((f) => f.name === 'email')?.type).toBe('string');
  });

  it('check prints a connectivity table: every enabled source ok, the Oracle CRM disabled', async () => {
    const res = await runCli(['check', '--json'], { ORACLE_URL: '' });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const { sources } = JSON.parse(res.stdout) as { sources: { source: string; status: string }[] };
    expect(Object.fromEntries(sources.map((s) => [s.source, s.status]))).toEqual({
      orders_soap: 'ok',
      tickets_php: 'ok',
      shop_pg: 'ok',
      app_mongo: 'ok',
      crm_oracle: 'disabled',
    });
  });

  it('check exits 3 and names the source when one is unreachable', async () => {
    const res = await runCli(['check'], { TICKETS_URL: 'http://127.0.0.1:9' });
    expect(res.code).toBe(3);
    expect(res.stdout).toMatch(/tickets_php\s+rest\s+failed/);
  });
});
