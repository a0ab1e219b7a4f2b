/**
 * ClickHouse migration 004 on a database that 001 and 002 built and filled, as the hub's own
 * was: birthdays become text, the values sent before keep theirs (a 0000-00-00 18.16 could not
 * do better with becomes NULL), and chat messages are read under their conversation's
 * current customer. The migration does not need any other (003 is someone else's).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { migrateClickhouse } from '../../sql/migrate.js';

const settings = stackSettings();
const DATABASE = 'junction_test_ch004';
const client = createClickhouseClient(settings, { database: DATABASE });
let dir: string;

const rows = async <T = Record<string, unknown>>(query: string) => (await client.query({ query, format: 'JSONEachRow' })).json<T>();
const insert = (table: string, values: Record<string, unknown>[]) => client.insert({ table, values, format: 'JSONEachRow' });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-ch004-'));
  for (const f of ['001_sync_runs.sql', '002_analytics.sql']) fs.copyFileSync(path.join(PROJECT_ROOT, 'sql/clickhouse', f), path.join(dir, f));
  const admin = createClickhouseClient(settings, { database: 'default' });
  await admin.command({ query: `DROP DATABASE IF EXISTS ${DATABASE}` });
  await admin.close();
});

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await client.command({ query: `DROP DATABASE IF EXISTS ${DATABASE}` }).catch(() => undefined);
  await client.close();
});

describe('ClickHouse migration 004', () => {
  it('upgrades a filled 002 database: birthdays as text, messages under their conversation’s customer', async () => {
    const url = settings.services.clickhouse.url;
    expect((await migrateClickhouse(url, DATABASE, dir)).applied).toEqual(['001_sync_runs.sql', '002_analytics.sql']);
    await insert('customers', [
      { customer_id: 1, name: 'old', birthday: '1965-03-02', version: 1 },
      { customer_id: 2, name: 'mid', birthday: '1990-05-17', version: 1 },
      { customer_id: 3, name: 'none', birthday: null, version: 1 },
    ]);
    await insert('conversations', [{ conversation_id: '10', customer_id: 5, version: 1 }]);
    await insert('chat_messages', [
      { conversation_id: '10', seq: 1, customer_id: 5, version: 1 },
      { conversation_id: '11', seq: 1, customer_id: 9, version: 1 },
    ]);

    const all = await migrateClickhouse(url, DATABASE, path.join(PROJECT_ROOT, 'sql/clickhouse'));
    expect(all.applied).toContain('004_birthday_text_chat_customer.sql');
    expect(await rows(`SELECT customer_id, birthday FROM customers_current ORDER BY customer_id`)).toEqual([
      { customer_id: '1', birthday: null },
      { customer_id: '2', birthday: '1990-05-17' },
      { customer_id: '3', birthday: null },
    ]);
    expect(await rows(`SELECT type FROM system.columns WHERE database = '${DATABASE}' AND table = 'customers_current' AND name = 'birthday'`)).toEqual([{ type: 'Nullable(String)' }]);
    // Sent again after the upgrade, the birthday is whole.
    await insert('customers', [{ customer_id: 1, name: 'old', birthday: '1965-03-02', version: 2 }]);
    expect(await rows(`SELECT birthday FROM customers_current WHERE customer_id = 1`)).toEqual([{ birthday: '1965-03-02' }]);

    // Conversation 10 re-linked to customer 7: its message follows; 11 has no conversation row and keeps its own.
    await insert('conversations', [{ conversation_id: '10', customer_id: 7, version: 2 }]);
    expect(await rows(`SELECT conversation_id, customer_id FROM chat_messages_current ORDER BY conversation_id`)).toEqual([
      { conversation_id: '10', customer_id: '7' },
      { conversation_id: '11', customer_id: '9' },
    ]);
  });
});
