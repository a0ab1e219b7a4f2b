/**
 * ClickHouse migration 005 on a database that 001–004 built and filled, as the hub's own was:
 * the chat views keep their columns and rows; chats of customers merged while no gateway
 * listened (so nothing re-sent them) are read under the survivor, through chains of
 * tombstones too; reopens are read under their conversation's customer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, stackSettings } from '../../config/env.js';
import { silentLogger } from '../../config/log.js';
import { ChatAnalytics } from '../../gateway/analytics.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import { migrateClickhouse } from '../../sql/migrate.js';
import { applyAndSend } from '../helpers/clickhouse.js';
import { customerOf, mapped, scratchDatabase, testRules, type ScratchDb } from '../helpers/unified.js';

const settings = stackSettings();
const DATABASE = 'junction_test_ch005';
const client = createClickhouseClient(settings, { database: DATABASE });
const rules = testRules();
let dir: string;
let db: ScratchDb;

const rows = async <T = Record<string, unknown>>(query: string) => (await client.query({ query, format: 'JSONEachRow' })).json<T>();
const insert = (table: string, values: Record<string, unknown>[]) => client.insert({ table, values, format: 'JSONEachRow' });
const columns = (table: string) => rows(`SELECT name, type FROM system.columns WHERE database = '${DATABASE}' AND table = '${table}'`);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-ch005-'));
  for (const f of fs.readdirSync(path.join(PROJECT_ROOT, 'sql/clickhouse')).filter((f) => /^00[1-4]_.*\.sql$/.test(f))) {
    fs.copyFileSync(path.join(PROJECT_ROOT, 'sql/clickhouse', f), path.join(dir, f));
  }
  const admin = createClickhouseClient(settings, { database: 'default' });
  await admin.command({ query: `DROP DATABASE IF EXISTS ${DATABASE}` });
  await admin.close();
  db = await scratchDatabase('ch005');
});

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await client.command({ query: `DROP DATABASE IF EXISTS ${DATABASE}` }).catch(() => undefined);
  await client.close();
  await db?.close();
});

describe('ClickHouse migration 005', () => {
  it('upgrades a filled 004 database: the chat views keep their columns and rows', async () => {
    const url = settings.services.clickhouse.url;
    expect((await migrateClickhouse(url, DATABASE, dir)).applied).toHaveLength(4);
    await insert('conversations', [{ conversation_id: '10', customer_id: 5, status: 'closed', opened_at: 1000, closed_at: 2000, message_count: 1, version: 1 }]);
    await insert('chat_messages', [
      { conversation_id: '10', seq: 1, customer_id: 5, sender_kind: 'visitor', version: 1 },
      { conversation_id: '11', seq: 1, customer_id: 9, sender_kind: 'visitor', version: 1 },
    ]);
    const before = {
      conversations: await columns('conversations_current'),
      messages: await columns('chat_messages_current'),
      conversationRows: await rows(`SELECT * FROM conversations_current`),
      messageRows: await rows(`SELECT * FROM chat_messages_current ORDER BY conversation_id`),
    };

    expect((await migrateClickhouse(url, DATABASE, path.join(PROJECT_ROOT, 'sql/clickhouse'))).applied).toContain('005_chat_reopens_survivors.sql');
    expect({
      conversations: await columns('conversations_current'),
      messages: await columns('chat_messages_current'),
      conversationRows: await rows(`SELECT * FROM conversations_current`),
      messageRows: await rows(`SELECT * FROM chat_messages_current ORDER BY conversation_id`),
    }).toEqual(before);
    expect(before.conversationRows).toHaveLength(1);
    await client.command({ query: 'TRUNCATE TABLE conversations' });
    await client.command({ query: 'TRUNCATE TABLE chat_messages' });
  });

  it('reads the chats of customers merged while no gateway listened under the survivor, through chains of tombstones', async () => {
    const send = (records: Parameters<typeof applyAndSend>[2]) => applyAndSend(db.pool, client, records, rules);
    await send([mapped('app_mongo/users/U1', { fields: { nickname: 'ann' }, keys: [['app_user', 'U1'], ['phone', '+8613911111111']] })]);
    await send([mapped('shop_pg/accounts/S1', { fields: { name: 'Ann Li' }, keys: [['shop_account', 'S1'], ['email', 'ann@example.com']] })]);
    await send([mapped('crm_oracle/customers/C1', { fields: { name: 'Ann Li' }, keys: [['crm_id', 'C1'], ['email', 'ann.li@example.com']] })]);
    const [app, shop, crm] = [await customerOf(db.pool, 'app_mongo/users/U1'), await customerOf(db.pool, 'shop_pg/accounts/S1'), await customerOf(db.pool, 'crm_oracle/customers/C1')];

    // Chats of the CRM customer and of the shop customer, sent by the gateway as it does.
    const { rows: made } = await db.pool.query<{ id: string }>(
      `INSERT INTO gateway.conversation (visitor_id, team, status, opening_client_msg_id, customer_id, created_at, closed_at)
       VALUES ('v-crm', 'support', 'closed', 'o-1', $1, '2025-05-01T02:00:00Z', '2025-05-01T03:00:00Z'),
              ('v-shop', 'support', 'closed', 'o-1', $2, '2025-05-02T02:00:00Z', '2025-05-02T03:00:00Z') RETURNING id`,
      [crm, shop],
    );
    const ids = made.map((r) => Number(r.id));
    const analytics = new ChatAnalytics({ pool: db.pool, client, settings: { enabled: true, flush_ms: 60_000, batch_rows: 10, max_buffer_rows: 100 }, log: silentLogger });
    try {
      for (const id of ids) analytics.conversationChanged(id);
      analytics.messages(ids.map((id) => ({ conversationId: id, seq: 1, sender: { kind: 'visitor' as const, id: 'visitor:v' }, clientMsgId: 'o-1', text: 'hello', at: '2025-05-01T02:00:00.000Z' })));
      await analytics.flush();
    } finally {
      await analytics.close();
    }
    expect(analytics.stats).toMatchObject({ conversations: 2, messages: 2, failedFlushes: 0 });
    await insert('conversation_reopens', [{ conversation_id: String(ids[0]), reopen_no: 1, reopened_at: Date.parse('2025-05-01T23:00:00Z') / 1000, version: 1 }]);

    // A record sharing the CRM and shop emails merges them; then one sharing the shop email and
    // the app phone merges the survivor into the app customer. The CRM customer's tombstone
    // still names the shop customer. No gateway ran: nothing re-sent the chats.
    const first = await send([mapped('shop_pg/addresses/A1', { keys: [['email', 'ann@example.com'], ['email', 'ann.li@example.com']] })]);
    const second = await send([mapped('shop_pg/addresses/A2', { keys: [['email', 'ann@example.com'], ['phone', '+8613911111111']] })]);
    expect([first.absorbed, second.absorbed]).toEqual([[{ id: crm, into: shop }], [{ id: shop, into: app }]]);
    const { rows: pg } = await db.pool.query(`SELECT customer_id::int AS customer_id FROM gateway.conversation ORDER BY id`);
    expect(pg).toEqual([{ customer_id: crm }, { customer_id: shop }]);

    // Customers are numbered as they came: the shop customer before the CRM one.
    expect(await rows(`SELECT customer_id, survivor_id FROM customer_survivors ORDER BY customer_id`)).toEqual([
      { customer_id: String(shop), survivor_id: String(app) },
      { customer_id: String(crm), survivor_id: String(app) },
    ]);
    expect(await rows(`SELECT conversation_id, customer_id FROM conversations_current ORDER BY conversation_id`)).toEqual(ids.map((id) => ({ conversation_id: String(id), customer_id: String(app) })));
    expect(await rows(`SELECT conversation_id, customer_id FROM chat_messages_current ORDER BY conversation_id`)).toEqual(ids.map((id) => ({ conversation_id: String(id), customer_id: String(app) })));
    expect(await rows(`SELECT conversation_id, reopen_no, toString(reopened_at) AS at, customer_id FROM conversation_reopens_current`)).toEqual([
      { conversation_id: String(ids[0]), reopen_no: 1, at: '2025-05-01 23:00:00', customer_id: String(app) },
    ]);
    // The survivor is the one live customer, where analysts join chats to.
    expect(await rows(`SELECT customer_id FROM customers_current`)).toEqual([{ customer_id: String(app) }]);
  });
});
