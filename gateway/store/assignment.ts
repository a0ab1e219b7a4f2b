/**
 * The SQL of assignment. Every automatic assignment to an agent happens in a transaction
 * that first locks that agent's row (`FOR NO KEY UPDATE`, agents in id order) and only then
 * counts their open conversations in a new statement: two instances assigning to one agent
 * at once take turns, and the second counts what the first committed, so a capacity limit
 * holds across instances. Queued conversations are then locked in id order (the queue is
 * first come, first served); `NO KEY` locks leave the foreign-key checks of concurrent
 * message and receipt writes unblocked.
 */
import type pg from 'pg';
import type { ConversationSummary } from '../protocol.js';
import { COLUMNS, toSummary, type ConversationRow } from './conversations.js';
import type { Db } from './db.js';

/** An agent's load as seen under its row lock. */
export interface AgentLoad {
  agentId: number;
  capacity: number;
  open: number;
}

/**
 * Locks the enabled agents among `agentIds` that belong to `team` and returns their load.
 * @param defaultCapacity `gateway.agent_capacity`, for agents without their own
 */
export async function lockAgentLoads(tx: pg.PoolClient, agentIds: readonly number[], team: string | null, defaultCapacity: number): Promise<AgentLoad[]> {
  if (agentIds.length === 0) return [];
  const { rows: locked } = await tx.query<{ id: string; capacity: number }>(
    `SELECT id, coalesce(capacity, $2) AS capacity FROM gateway.agent
      WHERE id = ANY($1::bigint[]) AND disabled_at IS NULL AND ($3::text IS NULL OR team = $3)
      ORDER BY id FOR NO KEY UPDATE`,
    [agentIds, defaultCapacity, team],
  );
  if (locked.length === 0) return [];
  // A new statement, so a new snapshot: it sees what the lock holders before us committed.
  const { rows: counts } = await tx.query<{ agent: string; n: number }>(
    `SELECT assigned_agent_id AS agent, count(*)::int AS n FROM gateway.conversation
      WHERE status = 'open' AND assigned_agent_id = ANY($1::bigint[]) GROUP BY assigned_agent_id`,
    [locked.map((r) => r.id)],
  );
  const open = new Map(counts.map((c) => [Number(c.agent), c.n]));
  return locked.map((r) => ({ agentId: Number(r.id), capacity: r.capacity, open: open.get(Number(r.id)) ?? 0 }));
}

/** The agent with a free slot and the fewest open conversations; ties go to the lowest id. Null when all are full. */
export function pickAgent(loads: readonly AgentLoad[]): AgentLoad | null {
  let best: AgentLoad | null = null;
  for (const l of loads) {
    if (l.open >= l.capacity) continue;
    if (!best || l.open < best.open || (l.open === best.open && l.agentId < best.agentId)) best = l;
  }
  return best;
}

/** Whether `team` has a queued conversation (a new one then waits its turn behind it). */
export async function hasQueued(db: Db, team: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM gateway.conversation WHERE status = 'open' AND assigned_agent_id IS NULL AND team = $1 LIMIT 1`, [team]);
  return rows.length > 0;
}

/** Locks up to `limit` of the team's queued conversations, oldest first. */
export async function lockQueued(tx: pg.PoolClient, team: string, limit: number): Promise<number[]> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM gateway.conversation WHERE status = 'open' AND assigned_agent_id IS NULL AND team = $1
      ORDER BY id LIMIT $2 FOR NO KEY UPDATE`,
    [team, limit],
  );
  return rows.map((r) => Number(r.id));
}

/** Assigns a locked queued conversation. Null when it is no longer open and queued. */
export async function assignQueued(tx: pg.PoolClient, conversationId: number, agentId: number): Promise<ConversationSummary | null> {
  const { rows } = await tx.query<ConversationRow>(
    `UPDATE gateway.conversation SET assigned_agent_id = $2, assigned_at = now(), updated_at = now()
      WHERE id = $1 AND status = 'open' AND assigned_agent_id IS NULL RETURNING ${COLUMNS}`,
    [conversationId, agentId],
  );
  return rows[0] ? toSummary(rows[0]) : null;
}

/** Teams that have queued conversations. */
export async function teamsWithQueue(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ team: string }>(`SELECT DISTINCT team FROM gateway.conversation WHERE status = 'open' AND assigned_agent_id IS NULL ORDER BY team`);
  return rows.map((r) => r.team);
}

/** Agents holding open conversations. */
export async function agentsHoldingOpen(db: Db): Promise<{ id: number; disabled: boolean }[]> {
  const { rows } = await db.query<{ id: string; disabled: boolean }>(
    `SELECT h.id, a.disabled_at IS NOT NULL AS disabled
       FROM (SELECT DISTINCT assigned_agent_id AS id FROM gateway.conversation WHERE status = 'open' AND assigned_agent_id IS NOT NULL) h
       JOIN gateway.agent a ON a.id = h.id
      ORDER BY 1`,
  );
  return rows.map((r) => ({ id: Number(r.id), disabled: r.disabled }));
}

/**
 * Puts the open conversations of `agentIds` back in their team's queue (the agents have
 * been gone past the grace period). Returns them as they are now.
 */
export async function requeueOf(tx: pg.PoolClient, agentIds: readonly number[]): Promise<ConversationSummary[]> {
  if (agentIds.length === 0) return [];
  const { rows: ids } = await tx.query<{ id: string }>(
    `SELECT id FROM gateway.conversation WHERE status = 'open' AND assigned_agent_id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE`,
    [agentIds],
  );
  if (ids.length === 0) return [];
  const { rows } = await tx.query<ConversationRow>(
    `UPDATE gateway.conversation SET assigned_agent_id = NULL, assigned_at = NULL, updated_at = now()
      WHERE id = ANY($1::bigint[]) AND status = 'open' AND assigned_agent_id = ANY($2::bigint[]) RETURNING ${COLUMNS}`,
    [ids.map((r) => r.id), agentIds],
  );
  return rows.map(toSummary).sort((a, b) => a.id - b.id);
}
