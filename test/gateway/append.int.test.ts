/**
 * Group commit against PostgreSQL: dense per-conversation seqs in arrival order, one
 * transaction for many messages, duplicates answered from the store, and two writers
 * (two instances) on the same conversations without deadlock or a doubled seq.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendBatch, type AppendRequest, type AppendResult } from '../../gateway/store/append.js';
import { isNotYours } from '../../gateway/store/conversations.js';
import { GroupCommit } from '../../gateway/store/group-commit.js';
import { scratchDatabase, type ScratchDb } from '../helpers/unified.js';

let db: ScratchDb;
let other: pg.Pool;
/** An agent of the team 'support' (its unassigned conversations are theirs to answer). */
let agent: string;

beforeAll(async () => {
  db = await scratchDatabase('gateway_append');
  other = new pg.Pool({ connectionString: db.url, max: 4 });
  agent = await makeAgent('support');
});

async function makeAgent(team: string, disabled = false): Promise<string> {
  const { rows } = await db.pool.query(
    `INSERT INTO gateway.agent (email, name, team, password_hash, disabled_at) VALUES (gen_random_uuid() || '@example.com', 'Agent', $1, 'x', $2) RETURNING id`,
    [team, disabled ? new Date() : null],
  );
  return `agent:${rows[0].id}`;
}

afterAll(async () => {
  await other?.end();
  await db?.close();
});

/** A conversation of visitor `v`, queued for the team 'support' unless assigned. */
async function conversation(status = 'open', assignedTo: string | null = null): Promise<number> {
  const { rows } = await db.pool.query(
    `INSERT INTO gateway.conversation (visitor_id, team, opening_client_msg_id, status, assigned_agent_id) VALUES ('v', 'support', gen_random_uuid()::text, $1, $2) RETURNING id`,
    [status, assignedTo === null ? null : Number(assignedTo.split(':')[1])],
  );
  return Number(rows[0].id);
}

const committer = (pool: pg.Pool, lanes = 2) =>
  new GroupCommit<AppendRequest, AppendResult>({ flush: (b) => appendBatch(pool, b), laneKey: (r) => r.conversationId, lanes, windowMs: 2 });

const req = (conversationId: number, sender: string, n: number | string): AppendRequest => ({ conversationId, senderId: sender, clientMsgId: `m-${n}`, text: `text ${n}` });

describe('appendBatch under group commit', () => {
  it('gives dense seqs in arrival order and shares transactions', async () => {
    const id = await conversation();
    const gc = committer(db.pool);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => gc.submit(req(id, 'visitor:v', i))));
    expect(results.map((r) => r.message.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(gc.stats.batches).toBeLessThan(200);
    expect(gc.stats.largestBatch).toBeGreaterThan(1);
    const { rows } = await db.pool.query('SELECT last_seq::int FROM gateway.conversation WHERE id = $1', [id]);
    expect(rows[0].last_seq).toBe(200);
  });

  it('answers duplicates (in the store and within one batch) with the original seq', async () => {
    const id = await conversation();
    const first = await appendBatch(db.pool, [req(id, 'visitor:v', 'a')]);
    const again = await appendBatch(db.pool, [req(id, 'visitor:v', 'b'), req(id, 'visitor:v', 'a'), req(id, 'visitor:v', 'b'), req(id, agent, 'a')]);
    const view = (r: AppendResult | Error) => (r instanceof Error ? r.message : [r.message.seq, r.duplicate]);
    expect(first.map(view)).toEqual([[1, false]]);
    // The agent's m-a is its own message: clientMsgIds are per sender.
    expect(again.map(view)).toEqual([[2, false], [1, true], [2, true], [3, false]]);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM gateway.message WHERE conversation_id = $1', [id]);
    expect(rows[0].n).toBe(3);
  });

  it('refuses a message to a closed or missing conversation alone', async () => {
    const open = await conversation();
    const closed = await conversation('closed');
    const results = await appendBatch(db.pool, [req(closed, 'visitor:v', 1), req(open, 'visitor:v', 1), req(999_999, 'visitor:v', 1)]);
    expect(results.map((r) => ('code' in r ? r.code : r.message.seq))).toEqual(['GW_CONVERSATION_CLOSED', 1, 'GW_CONVERSATION_NOT_FOUND']);
  });

  it('stores a new message only from a sender who may see the conversation now; a resend of a stored one is still answered', async () => {
    const billing = await makeAgent('billing');
    const disabled = await makeAgent('support', true);
    const mine = await conversation('open', agent);
    const queued = await conversation();
    const disabledOwn = await conversation('open', disabled);
    const stored = await appendBatch(db.pool, [req(mine, 'visitor:v', 'before')]);
    expect(stored.map((r) => ('code' in r ? r.code : r.message.seq))).toEqual([1]);
    // Handed to `billing` (a transfer the visitor's and the agent's sockets may not have heard of yet).
    await db.pool.query('UPDATE gateway.conversation SET assigned_agent_id = $2, team = $3 WHERE id = $1', [mine, Number(billing.split(':')[1]), 'billing']);
    const results = await appendBatch(db.pool, [
      req(mine, agent, 'old holder'),
      req(mine, billing, 'new holder'),
      req(mine, 'visitor:someone-else', 'stranger'),
      req(mine, 'visitor:v', 'before'),
      req(mine, 'visitor:v', 'owner'),
      req(queued, billing, 'other team'),
      req(queued, disabled, 'disabled'),
      req(queued, agent, 'team queue'),
      req(queued, 'agent:not-a-number', 'forged'),
      req(queued, 'system:x', 'unknown kind'),
      req(disabledOwn, disabled, 'disabled, assigned'),
    ]);
    const view = (r: AppendResult | Error) => (r instanceof Error ? `${(r as { code?: string }).code}${isNotYours(r) ? ' (not yours)' : ''}` : [r.message.seq, r.duplicate]);
    expect(results.map(view)).toEqual([
      'GW_CONVERSATION_NOT_FOUND (not yours)',
      [2, false],
      'GW_CONVERSATION_NOT_FOUND (not yours)',
      [1, true],
      [3, false],
      'GW_CONVERSATION_NOT_FOUND (not yours)',
      'GW_CONVERSATION_NOT_FOUND (not yours)',
      [1, false],
      'GW_CONVERSATION_NOT_FOUND (not yours)',
      'GW_CONVERSATION_NOT_FOUND (not yours)',
      'GW_CONVERSATION_NOT_FOUND (not yours)',
    ]);
    const { rows } = await db.pool.query('SELECT conversation_id::int AS c, count(*)::int AS n, max(seq)::int AS top FROM gateway.message WHERE conversation_id = ANY($1) GROUP BY 1 ORDER BY 1', [[mine, queued]]);
    expect(rows).toEqual([{ c: mine, n: 3, top: 3 }, { c: queued, n: 1, top: 1 }]);
  });

  it('lets two instances write the same conversations in opposite orders without deadlock or doubled seqs', async () => {
    const ids = [await conversation(), await conversation(), await conversation()];
    const one = committer(db.pool, 1);
    const two = committer(other, 1);
    const work: Promise<AppendResult>[] = [];
    for (let i = 0; i < 150; i++) {
      for (const id of ids) work.push(one.submit(req(id, 'visitor:v', i)));
      for (const id of [...ids].reverse()) work.push(two.submit(req(id, agent, i)));
    }
    const results = await Promise.all(work);
    for (const id of ids) {
      const seqs = results.filter((r) => r.message.conversationId === id).map((r) => r.message.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      // Each sender's messages keep their order.
      for (const sender of ['visitor:v', agent]) {
        const mine = results.filter((r) => r.message.conversationId === id && r.message.sender.id === sender).map((r) => r.message.seq);
        expect(mine).toEqual([...mine].sort((x, y) => x - y));
      }
    }
  });

  it('probes gateway.message by index as the table grows under a long-lived connection: no sequential scan', async () => {
    // A plan cached while the table was small read the whole table for every batch once it
    // had grown (sql/postgres/009_gateway_append_lateral.sql). The gateway's connections
    // live long and the table grows under them: the same happens here in a few seconds.
    const { rows: made } = await db.pool.query(
      `INSERT INTO gateway.conversation (visitor_id, team, opening_client_msg_id) SELECT 'probe', 'support', 'plan-' || g FROM generate_series(1, 900) g RETURNING id`,
    );
    const ids = made.map((r: { id: string }) => Number(r.id));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const probe = async (round: string) => {
        for (let c = 0; c < 12; c++) {
          const results = await appendBatch(client, Array.from({ length: 10 }, (_, i) => req(ids[(c * 10 + i) % ids.length]!, 'visitor:probe', `${round}-${c}-${i}`)));
          expect(results.every((r) => !(r instanceof Error) && !r.duplicate)).toBe(true);
        }
      };
      const seqScans = async () => {
        await client.query('SELECT pg_stat_force_next_flush()');
        await client.query('SELECT pg_stat_clear_snapshot()');
        const { rows } = await client.query(`SELECT seq_scan::int AS n FROM pg_stat_user_tables WHERE relid = 'gateway.message'::regclass`);
        return rows[0].n as number;
      };
      await probe('small');
      // The table grows by 36,000 rows behind the connection's back.
      await db.pool.query(
        `INSERT INTO gateway.message (conversation_id, seq, sender_id, sender_kind, client_msg_id, text)
         SELECT c.id, 1000 + s, 'visitor:fill', 'visitor', 'fill-' || s, 'text' FROM unnest($1::bigint[]) AS c(id), generate_series(1, 40) s`,
        [ids],
      );
      const before = await seqScans();
      await probe('large');
      expect(await seqScans()).toBe(before);
    } finally {
      await client.end();
    }
  });
});
