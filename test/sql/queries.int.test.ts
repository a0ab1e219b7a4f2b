/**
 * The example analyst queries (sql/clickhouse/queries/*.sql) on the real ClickHouse server,
 * each compared with the same figure computed independently in PostgreSQL from the unified
 * view, so a wrong query fails.
 *
 * The estate: the demo generator's records at a small scale, every stream including the
 * Oracle CRM (the only source of VIP levels, and no Oracle runs here), mapped with the
 * committed mappings and loaded batch by batch through resolve + load into a scratch hub
 * database, each batch's ClickHouse rows sent inside its transaction, as a sync does, with
 * its run reported to `sync_runs` as it progresses. Orders arrive before the CRM, so the CRM
 * merges phone-only customers into CRM customers and their orders are re-pointed.
 * The demo ticket system keeps no response times, so a second pass of the tickets brings
 * first-response and resolution times (an update of every ticket). The test writes the chat
 * rows the gateway would have sent: a few conversations, one closed and reopened by its
 * visitor 20 h later, and two of a customer the CRM merge absorbed, sent under its id by a
 * gateway that was not running when the merge came.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { estateRecords, type DemoStream } from '../../pipelines/map/estate-records.js';
import { compileMapping } from '../../pipelines/map/compile.js';
import { mapBatch } from '../../pipelines/map/map-batch.js';
import { resolveRules, type ResolveRules } from '../../pipelines/resolve/rules.js';
import { sendRunStates } from '../../pipelines/sinks/sync-runs.js';
import type { MappedRecord } from '../../pipelines/types.js';
import { applyAndSend, scratchClickhouse, type ScratchClickhouse } from '../helpers/clickhouse.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

const QUERIES = path.join(PROJECT_ROOT, 'sql', 'clickhouse', 'queries');
// Orders and tickets first, the CRM last: its records merge customers that orders created.
const STREAMS: DemoStream[] = ['orders_soap.orders', 'tickets_php.tickets', 'shop_pg.accounts', 'app_mongo.users', 'crm_oracle.customers'];
const BATCH = 250;

let db: ScratchDb;
let ch: ScratchClickhouse;
let config: ResolvedConfig;
let rules: ResolveRules;
let mappedTickets: MappedRecord[] = [];
let chats: { id: string; customerId: number; openedAt: number }[] = [];
/** Chat contacts beyond `chats` (reopens, chats sent under an absorbed customer), each under the customer it counts for. */
let moreChatContacts: { customerId: number; at: number }[] = [];
/** The customer of the reopened conversation, and the survivor of the absorbed one. */
let reopener: number;
let merged: { absorbed: number; survivor: number };

const query = (file: string) => ch.rows(fs.readFileSync(path.join(QUERIES, file), 'utf8'));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const utcSeconds = (text: string) => Date.parse(`${text.replace(' ', 'T')}Z`) / 1000;
const byKey = <T extends object>(rows: T[], key: (r: NoInfer<T>) => string) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

/** The run as hub.sync_run holds it, into ClickHouse sync_runs, as the pipeline's senders send it. */
const sendRun = (runId: number): Promise<number> => sendRunStates(ch.client, db.pool, [runId]);

async function startRun(source: string, stream: string, trigger = 'cli', mode = 'full'): Promise<number> {
  const { rows } = await db.pool.query(`INSERT INTO hub.sync_run (source, stream, mode, status, trigger, started_at) VALUES ($1, $2, $4, 'running', $3, now()) RETURNING id`, [source, stream, trigger, mode]);
  const runId = Number(rows[0].id);
  await sendRun(runId);
  return runId;
}

async function finishRun(runId: number, status: string, errorCode: string | null = null): Promise<void> {
  await db.pool.query(`UPDATE hub.sync_run SET status = $2, finished_at = now(), error_code = $3 WHERE id = $1`, [runId, status, errorCode]);
  await sendRun(runId);
}

/** One stream's records through map → resolve + load + ClickHouse rows, batch by batch, reported as a run. */
async function load(ref: string, records: readonly MappedRecord[]): Promise<void> {
  const [source, stream] = ref.split('.') as [string, string];
  const runId = await startRun(source, stream);
  for (let i = 0; i < records.length; i += BATCH) {
    const batch = records.slice(i, i + BATCH);
    const result = await applyAndSend(db.pool, ch.client, batch, rules);
    expect(result.failures, ref).toEqual([]);
    await db.pool.query(`UPDATE hub.sync_run SET records_read = records_read + $2, records_written = records_written + $3 WHERE id = $1`, [runId, batch.length, result.loaded]);
    await sendRun(runId);
  }
  await finishRun(runId, 'succeeded');
}

/** First response 10 min to ~3 days after creation (none for one in five), resolution later for resolved and closed tickets. */
function withResponseTimes(t: MappedRecord): MappedRecord {
  const n = Number(t.sourceKey);
  const created = Date.parse(String(t.fields.created_at));
  const fields = { ...t.fields };
  if (n % 5 !== 0) {
    const responded = created + (10 + ((n * 7919) % 4300)) * 60_000;
    fields.first_response_at = new Date(responded).toISOString();
    if (fields.status === 'resolved' || fields.status === 'closed') fields.resolved_at = new Date(responded + (1 + ((n * 104729) % 200)) * 3_600_000).toISOString();
  }
  return { ...t, fields, payloadHash: `${t.payloadHash}:responded` };
}

beforeAll(async () => {
  db = await scratchDatabase('ch_queries');
  ch = await scratchClickhouse('ch_queries');
  config = await loadConfig(path.join(PROJECT_ROOT, 'config', 'junction.yaml'));
  rules = resolveRules(config);
  const estate = estateRecords({ scale: 300 });
  for (const ref of STREAMS) {
    const [source, stream] = ref.split('.') as [string, string];
    const mapping = config.mappings.find((m) => m.mapping.source === source && m.mapping.stream === stream)!;
    const mapped = await mapBatch(compileMapping(mapping, config), source, stream, estate[ref]);
    expect(mapped.failures, ref).toEqual([]);
    if (ref === 'tickets_php.tickets') mappedTickets = mapped.records;
    await load(ref, mapped.records);
  }
  // The ticket system's second pass: every ticket updated with its response times.
  await load('tickets_php.tickets', mappedTickets.map(withResponseTimes));
  // The successful runs happened an hour ago (re-sent: a later version of each run); since
  // then a tickets run failed, an orders run was cancelled, an accounts run is still going,
  // and a stream never succeeded.
  const { rows: done } = await db.pool.query(`UPDATE hub.sync_run SET started_at = started_at - interval '1 hour', finished_at = finished_at - interval '1 hour' RETURNING id`);
  for (const r of done) await sendRun(Number(r.id));
  // A backfill of old dates that succeeded just now says nothing of how fresh tickets are.
  await finishRun(await startRun('tickets_php', 'tickets', 'cli', 'backfill'), 'succeeded');
  await finishRun(await startRun('tickets_php', 'tickets'), 'failed', 'CONN_UNREACHABLE');
  await finishRun(await startRun('orders_soap', 'orders'), 'cancelled', 'CONN_ABORTED');
  await startRun('shop_pg', 'accounts');
  await finishRun(await startRun('shop_pg', 'addresses'), 'failed', 'CONN_AUTH_FAILED');
  // Dead-letter replays that succeeded just now, with the sources still down: not syncs.
  await finishRun(await startRun('tickets_php', 'tickets', 'replay'), 'succeeded');
  await finishRun(await startRun('shop_pg', 'addresses', 'replay'), 'succeeded');

  // Chats of the first 40 ticket holders, 2 or 9 days after their ticket, sent open then closed.
  const { rows } = await db.pool.query<{ customer_id: string; at: string }>(
    `SELECT customer_id, floor(extract(epoch FROM created_at))::int8 AS at FROM unified.ticket ORDER BY source_key LIMIT 40`,
  );
  chats = rows.map((r, i) => ({ id: `conv-${i}`, customerId: Number(r.customer_id), openedAt: Number(r.at) + (i % 3 === 0 ? 9 : 2) * 86_400 }));
  for (const [status, version] of [['open', 1], ['closed', 2]] as const) {
    const values = chats.map((c) => ({ conversation_id: c.id, customer_id: c.customerId, channel: 'web', page: '/help', team: 'support', agent_id: 'a1', status, opened_at: c.openedAt, assigned_at: c.openedAt + 30, first_response_at: null, closed_at: status === 'closed' ? c.openedAt + 600 : null, message_count: 3, version }));
    await ch.client.insert({ table: 'conversations', values, format: 'JSONEachRow' });
  }

  // A customer without tickets chats in 2030 (years after every ticket), the agent closes the
  // chat an hour later, and the visitor writes again 20 h after the close: the gateway reopens
  // the conversation, sending its row open again and a row for the reopen.
  const { rows: [quiet] } = await db.pool.query<{ id: string }>(
    `SELECT id FROM unified.customer c WHERE merged_into IS NULL AND NOT EXISTS (SELECT 1 FROM unified.ticket t WHERE t.customer_id = c.id) ORDER BY id LIMIT 1`,
  );
  reopener = Number(quiet!.id);
  const opened = Date.parse('2030-06-01T02:00:00Z') / 1000;
  const closed = opened + 3600;
  const reopened = closed + 20 * 3600;
  const conversation = { conversation_id: 'conv-reopened', customer_id: reopener, channel: 'web', page: '/help', team: 'support', agent_id: 'a1', opened_at: opened, assigned_at: opened + 30, first_response_at: opened + 60 };
  await ch.client.insert({
    table: 'conversations',
    format: 'JSONEachRow',
    values: [
      { ...conversation, status: 'open', closed_at: null, message_count: 2, version: 1 },
      { ...conversation, status: 'closed', closed_at: closed, message_count: 2, version: 2 },
      { ...conversation, status: 'open', closed_at: null, message_count: 3, version: 3 },
    ],
  });
  await ch.client.insert({ table: 'conversation_reopens', format: 'JSONEachRow', values: [{ conversation_id: 'conv-reopened', reopen_no: 1, reopened_at: reopened, version: 3 }] });

  // Two chats a day apart, in 2029, of a customer the CRM merge absorbed, under its own id.
  const { rows: [gone] } = await db.pool.query<{ id: string; merged_into: string }>(`SELECT id, merged_into FROM unified.customer WHERE merged_into IS NOT NULL ORDER BY id LIMIT 1`);
  merged = { absorbed: Number(gone!.id), survivor: Number(gone!.merged_into) };
  const goneChats = [0, 1].map((i) => ({ conversation_id: `conv-absorbed-${i}`, customer_id: merged.absorbed, channel: 'web', page: '/help', team: 'support', agent_id: 'a1', status: 'closed', opened_at: Date.parse('2029-03-01T02:00:00Z') / 1000 + i * 86_400, assigned_at: null, first_response_at: null, closed_at: null, message_count: 1, version: 1 }));
  await ch.client.insert({ table: 'conversations', format: 'JSONEachRow', values: goneChats });
  moreChatContacts = [
    { customerId: reopener, at: opened },
    { customerId: reopener, at: reopened },
    ...goneChats.map((c) => ({ customerId: merged.survivor, at: c.opened_at })),
  ];
}, 120_000);

afterAll(async () => {
  await ch?.close();
  await db?.close();
});

describe('the ClickHouse views hold the unified view once', () => {
  it('orders, tickets and live customers count as in PostgreSQL, merges included', async () => {
    const pg = (await db.pool.query(`SELECT
        (SELECT count(*)::int FROM unified."order") AS orders, (SELECT count(*)::int FROM unified.ticket) AS tickets,
        (SELECT count(*)::int FROM unified.customer WHERE merged_into IS NULL) AS customers,
        (SELECT count(*)::int FROM unified.merge_log WHERE action = 'merge') AS merges`)).rows[0];
    expect(pg.merges).toBeGreaterThan(0);
    const [c] = await ch.rows<Record<string, string>>(`SELECT
        (SELECT count() FROM orders_current) AS orders, (SELECT count() FROM tickets_current) AS tickets,
        (SELECT count() FROM customers_current) AS customers, (SELECT count() FROM orders) AS order_rows`);
    expect({ orders: num(c!.orders), tickets: num(c!.tickets), customers: num(c!.customers) }).toEqual({ orders: pg.orders, tickets: pg.tickets, customers: pg.customers });
    // Re-sent rows exist (merges re-point orders), and the views still count each once.
    expect(num(c!.order_rows)).toBeGreaterThan(pg.orders);
    // Every order under the customer PostgreSQL has it under.
    const owners = await ch.rows<{ source_key: string; customer_id: string }>(`SELECT source_key, customer_id FROM orders_current`);
    const pgOwners = new Map((await db.pool.query(`SELECT source_key, customer_id::text FROM unified."order"`)).rows.map((r) => [r.source_key, r.customer_id]));
    for (const o of owners) expect(o.customer_id, o.source_key).toBe(pgOwners.get(o.source_key));
  });
});

describe('example analyst queries', () => {
  it('orders_per_vip_month.sql: orders, customers and revenue per VIP level and month', async () => {
    const got = (await query('orders_per_vip_month.sql')).map((r) => ({ month: r.month, vip_level: r.vip_level, orders: num(r.orders), customers: num(r.customers), revenue: num(r.revenue) }));
    const { rows } = await db.pool.query<{ month: string; vip_level: string; orders: number; customers: number; revenue: number }>(`
      SELECT to_char(date_trunc('month', o.ordered_at AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD') AS month,
             coalesce(nullif(c.vip_level, ''), 'none') AS vip_level,
             count(*)::int AS orders, count(DISTINCT o.customer_id)::int AS customers, sum(round(o.total_amount, 2))::float8 AS revenue
        FROM unified."order" o LEFT JOIN unified.customer c ON c.id = o.customer_id AND c.merged_into IS NULL
       WHERE o.ordered_at IS NOT NULL GROUP BY 1, 2`);
    const key = (r: { month: unknown; vip_level: unknown }) => `${String(r.month)}/${String(r.vip_level)}`;
    type Got = (typeof got)[number];
    expect(new Set(rows.map((r) => r.vip_level)).size).toBeGreaterThan(2);
    expect(got).toHaveLength(rows.length);
    const want = byKey(rows, key);
    byKey<Got>(got, key).forEach((g, i) => {
      const w = want[i]!;
      expect({ ...g, revenue: undefined }, key(w)).toEqual({ month: w.month, vip_level: w.vip_level, orders: w.orders, customers: w.customers, revenue: undefined });
      expect(g.revenue!, key(w)).toBeCloseTo(w.revenue, 2);
    });
  });

  it('ticket_response_times.sql: first-response and resolution hours per month and priority', async () => {
    const got = await query('ticket_response_times.sql');
    type Want = {
      month: string;
      priority: string;
      tickets: number;
      responded: number;
      resolved: number;
      avg_fr: number | null;
      median_fr: number | null;
      avg_rs: number | null;
      median_rs: number | null;
    };
    const { rows } = await db.pool.query<Want>(`
      WITH t AS (
        SELECT date_trunc('month', created_at AT TIME ZONE 'Asia/Shanghai') AS m, coalesce(priority, '') AS priority,
               floor(extract(epoch FROM first_response_at)) - floor(extract(epoch FROM created_at)) AS fr,
               floor(extract(epoch FROM resolved_at)) - floor(extract(epoch FROM created_at)) AS rs
          FROM unified.ticket WHERE created_at IS NOT NULL)
      SELECT to_char(m, 'YYYY-MM-DD') AS month, priority, count(*)::int AS tickets, count(fr)::int AS responded, count(rs)::int AS resolved,
             (avg(fr) / 3600)::float8 AS avg_fr, (percentile_cont(0.5) WITHIN GROUP (ORDER BY fr) / 3600)::float8 AS median_fr,
             (avg(rs) / 3600)::float8 AS avg_rs, (percentile_cont(0.5) WITHIN GROUP (ORDER BY rs) / 3600)::float8 AS median_rs
        FROM t GROUP BY 1, 2`);
    expect(rows.reduce((n, r) => n + r.resolved, 0)).toBeGreaterThan(0);
    const key = (r: Record<string, unknown>) => `${String(r.month)}/${String(r.priority)}`;
    expect(got).toHaveLength(rows.length);
    const want = byKey(rows, key);
    const close = (a: unknown, b: number | null, what: string) => {
      if (b === null) expect(num(a), what).toBeNull();
      else expect(Math.abs(num(a)! - b), `${what}: ${String(a)} vs ${b}`).toBeLessThanOrEqual(0.0051);
    };
    byKey(got, key).forEach((g, i) => {
      const w = want[i]!;
      expect([g.month, g.priority, num(g.tickets), num(g.responded), num(g.resolved)], key(w)).toEqual([w.month, w.priority, w.tickets, w.responded, w.resolved]);
      close(g.avg_first_response_h, w.avg_fr, `${key(w)} avg first response`);
      close(g.median_first_response_h, w.median_fr, `${key(w)} median first response`);
      close(g.avg_resolution_h, w.avg_rs, `${key(w)} avg resolution`);
      close(g.median_resolution_h, w.median_rs, `${key(w)} median resolution`);
    });
  });

  it('repeat_contacts_7d.sql: customers with two tickets or chats within 7 days', async () => {
    const got = (await query('repeat_contacts_7d.sql')).map((r) => ({
      customer_id: num(r.customer_id), contacts: num(r.contacts), tickets: num(r.tickets), chats: num(r.chats), repeat_contacts: num(r.repeat_contacts),
      first: utcSeconds(String(r.first_contact_at)), last: utcSeconds(String(r.last_contact_at)),
    }));
    const { rows } = await db.pool.query(
      `WITH contacts AS (
         SELECT customer_id, floor(extract(epoch FROM created_at))::int8 AS at, 'ticket' AS kind FROM unified.ticket WHERE created_at IS NOT NULL
         UNION ALL SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[])
       ), gaps AS (
         SELECT customer_id, at, kind, at - lag(at) OVER (PARTITION BY customer_id ORDER BY at) AS gap FROM contacts
       )
       SELECT customer_id::int8::float8 AS customer_id, count(*)::int AS contacts, count(*) FILTER (WHERE kind = 'ticket')::int AS tickets,
              count(*) FILTER (WHERE kind = 'chat')::int AS chats, count(*) FILTER (WHERE gap <= 604800)::int AS repeat_contacts,
              min(at)::float8 AS first, max(at)::float8 AS last
         FROM gaps GROUP BY customer_id HAVING count(*) FILTER (WHERE gap <= 604800) > 0
        ORDER BY repeat_contacts DESC, customer_id`,
      [
        [...chats.map((c) => c.customerId), ...moreChatContacts.map((c) => c.customerId)],
        [...chats.map((c) => c.openedAt), ...moreChatContacts.map((c) => c.at)],
        [...chats.map(() => 'chat'), ...moreChatContacts.map(() => 'chat')],
      ],
    );
    // Chats within 7 days of a ticket make repeat contacts; so do tickets alone.
    expect(rows.some((r) => r.chats > 0)).toBe(true);
    expect(rows.some((r) => r.chats === 0)).toBe(true);
    expect(got).toEqual(rows);
  });

  it('repeat_contacts_7d.sql: a conversation closed and reopened by its visitor 20 h later is a repeat contact', async () => {
    const got = (await query('repeat_contacts_7d.sql')).find((r) => num(r.customer_id) === reopener);
    expect(got).toMatchObject({ contacts: '2', tickets: '0', chats: '2', repeat_contacts: '1', first_contact_at: '2030-06-01 02:00:00', last_contact_at: '2030-06-01 23:00:00' });
  });

  it('repeat_contacts_7d.sql: chats sent under a customer merged while no gateway listened count under the survivor', async () => {
    const got = await query('repeat_contacts_7d.sql');
    expect(got.filter((r) => num(r.customer_id) === merged.absorbed)).toEqual([]);
    const survivor = got.find((r) => num(r.customer_id) === merged.survivor);
    expect((survivor?.times as number[] | undefined)?.filter((t) => t >= Date.parse('2029-01-01T00:00:00Z') / 1000 && t < Date.parse('2030-01-01T00:00:00Z') / 1000)).toHaveLength(2);
  });

  it('sync_freshness.sql: last successful finish, its age and the latest run per stream', async () => {
    const before = Number((await db.pool.query(`SELECT floor(extract(epoch FROM now()))::int8 AS t`)).rows[0].t);
    const got = await query('sync_freshness.sql');
    const after = Number((await db.pool.query(`SELECT floor(extract(epoch FROM now()))::int8 AS t`)).rows[0].t) + 1;
    const { rows } = await db.pool.query(`
      SELECT source, stream, floor(extract(epoch FROM max(finished_at) FILTER (WHERE status = 'succeeded' AND mode <> 'backfill')))::float8 AS last_success,
             (array_agg(status ORDER BY id DESC))[1] AS last_status, coalesce((array_agg(error_code ORDER BY id DESC))[1], '') AS last_error_code,
             count(*)::int AS runs, count(*) FILTER (WHERE status = 'failed')::int AS failed_runs
        FROM hub.sync_run WHERE trigger <> 'replay' GROUP BY 1, 2 ORDER BY 1, 2`);
    expect(rows).toHaveLength(STREAMS.length + 1);
    // A replay is no sync: a stream that never synced has no last success, and one whose
    // source is down shows its last sync's failure and age, whatever replays did since.
    const stream = (source: string, name: string) => got.find((g) => g.source === source && g.stream === name)!;
    expect(stream('shop_pg', 'addresses')).toMatchObject({ last_success_at: null, age_seconds: null, last_status: 'failed', runs: '1' });
    expect(stream('tickets_php', 'tickets')).toMatchObject({ last_status: 'failed', last_error_code: 'CONN_UNREACHABLE' });
    expect(num(stream('tickets_php', 'tickets').age_seconds)).toBeGreaterThanOrEqual(3600);
    expect(got.map((g) => [g.source, g.stream])).toEqual(rows.map((r) => [r.source, r.stream]));
    got.forEach((g, i) => {
      const w = rows[i]!;
      const where = `${w.source}.${w.stream}`;
      expect([g.last_status, g.last_error_code, num(g.runs), num(g.failed_runs)], where).toEqual([w.last_status, w.last_error_code, w.runs, w.failed_runs]);
      if (w.last_success === null) {
        expect([g.last_success_at, g.age_seconds], where).toEqual([null, null]);
        return;
      }
      expect(utcSeconds(String(g.last_success_at)), where).toBe(w.last_success);
      const age = num(g.age_seconds)!;
      expect(age, where).toBeGreaterThanOrEqual(before - w.last_success);
      expect(age, where).toBeLessThanOrEqual(after - w.last_success);
    });
  });
});
