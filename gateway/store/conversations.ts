/**
 * Conversations (`gateway.conversation`): opening one for a visitor's first message,
 * who may see one, transfer and close. Appending messages is `append.ts`'s job.
 */
import type pg from 'pg';
import type { Principal } from '../auth/token.js';
import type { ConversationSummary } from '../protocol.js';
import { inTransaction, type Db } from './db.js';

export interface ConversationRow {
  id: string;
  visitor_id: string;
  team: string;
  assigned_agent_id: string | null;
  customer_id: string | null;
  status: 'open' | 'closed';
  last_seq: string;
  created_at: Date;
}

const COLUMNS = 'id, visitor_id, team, assigned_agent_id, customer_id, status, last_seq, created_at';

export function toSummary(r: ConversationRow): ConversationSummary {
  return {
    id: Number(r.id),
    status: r.status,
    team: r.team,
    assignedAgentId: r.assigned_agent_id === null ? null : Number(r.assigned_agent_id),
    visitorId: r.visitor_id,
    customerId: r.customer_id === null ? null : Number(r.customer_id),
    lastSeq: Number(r.last_seq),
    createdAt: r.created_at.toISOString(),
  };
}

/**
 * The one visibility rule, used by the socket and the REST API alike: a visitor sees their
 * own conversations; an agent sees those assigned to them and their team's unassigned queue.
 */
export function canSee(c: ConversationSummary, p: Principal): boolean {
  if (p.kind === 'visitor') return c.visitorId === p.visitorId;
  return c.assignedAgentId === p.agentId || (c.assignedAgentId === null && c.team === p.team);
}

export async function getConversation(db: Db, id: number): Promise<ConversationSummary | null> {
  const { rows } = await db.query<ConversationRow>(`SELECT ${COLUMNS} FROM gateway.conversation WHERE id = $1`, [id]);
  return rows[0] ? toSummary(rows[0]) : null;
}

/** The open conversations a principal sees (a visitor's own; an agent's assigned ones and the team queue). */
export async function openConversationsOf(db: Db, p: Principal): Promise<ConversationSummary[]> {
  const { rows } =
    p.kind === 'visitor'
      ? await db.query<ConversationRow>(`SELECT ${COLUMNS} FROM gateway.conversation WHERE visitor_id = $1 AND status = 'open' ORDER BY id`, [p.visitorId])
      : await db.query<ConversationRow>(
          `SELECT ${COLUMNS} FROM gateway.conversation WHERE status = 'open' AND assigned_agent_id = $1
           UNION ALL
           SELECT ${COLUMNS} FROM gateway.conversation WHERE status = 'open' AND assigned_agent_id IS NULL AND team = $2
           ORDER BY id`,
          [p.agentId, p.team],
        );
  return rows.map(toSummary);
}

/** What a new conversation needs beyond its visitor. */
export interface NewConversation {
  team: string;
  assignedAgentId: number | null;
  meta: Record<string, unknown>;
}

/**
 * The conversation a visitor's message without `conversationId` goes to: the one this
 * `clientMsgId` opened before (a resend), else the visitor's open one, else a new one made
 * by `plan` (routing and assignment, run inside the transaction). Serialized per visitor by
 * an advisory lock, so two tabs sending their first message at once open one conversation.
 */
export async function openConversationFor(
  pool: pg.Pool,
  visitor: Extract<Principal, { kind: 'visitor' }>,
  clientMsgId: string,
  plan: (tx: pg.PoolClient) => Promise<NewConversation>,
): Promise<{ conversation: ConversationSummary; created: boolean }> {
  return inTransaction(pool, async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('junction.gateway.visitor'), hashtext($1))`, [visitor.visitorId]);
    const { rows: existing } = await tx.query<ConversationRow>(
      `(SELECT ${COLUMNS} FROM gateway.conversation WHERE visitor_id = $1 AND opening_client_msg_id = $2)
       UNION ALL
       (SELECT ${COLUMNS} FROM gateway.conversation WHERE visitor_id = $1 AND status = 'open' ORDER BY id DESC LIMIT 1)`,
      [visitor.visitorId, clientMsgId],
    );
    if (existing[0]) return { conversation: toSummary(existing[0]), created: false };
    const next = await plan(tx);
    const { rows } = await tx.query<ConversationRow>(
      `INSERT INTO gateway.conversation (visitor_id, team, assigned_agent_id, customer_id, identity, meta, opening_client_msg_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [visitor.visitorId, next.team, next.assignedAgentId, visitor.customerId, visitor.identity, next.meta, clientMsgId],
    );
    return { conversation: toSummary(rows[0]!), created: true };
  });
}

/** Open conversations per agent, for least-loaded assignment. */
export async function openCountsByAgent(db: Db, agentIds: readonly number[]): Promise<Map<number, number>> {
  const counts = new Map(agentIds.map((id) => [id, 0]));
  if (agentIds.length === 0) return counts;
  const { rows } = await db.query<{ agent: string; n: string }>(
    `SELECT assigned_agent_id AS agent, count(*) AS n FROM gateway.conversation
     WHERE status = 'open' AND assigned_agent_id = ANY($1::bigint[]) GROUP BY assigned_agent_id`,
    [agentIds],
  );
  for (const r of rows) counts.set(Number(r.agent), Number(r.n));
  return counts;
}

/** Hands an open conversation to an agent (team follows the agent's) or to a team's queue. Null when it is not open. */
export async function transferConversation(
  db: Db,
  id: number,
  to: { agentId: number; team: string } | { team: string },
): Promise<ConversationSummary | null> {
  const { rows } = await db.query<ConversationRow>(
    `UPDATE gateway.conversation SET assigned_agent_id = $2, team = $3, updated_at = now()
     WHERE id = $1 AND status = 'open' RETURNING ${COLUMNS}`,
    [id, 'agentId' in to ? to.agentId : null, to.team],
  );
  return rows[0] ? toSummary(rows[0]) : null;
}

/** Closes an open conversation. Null when it was not open. */
export async function closeConversation(db: Db, id: number, by: string): Promise<ConversationSummary | null> {
  const { rows } = await db.query<ConversationRow>(
    `UPDATE gateway.conversation SET status = 'closed', closed_at = now(), closed_by = $2, updated_at = now()
     WHERE id = $1 AND status = 'open' RETURNING ${COLUMNS}`,
    [id, by],
  );
  return rows[0] ? toSummary(rows[0]) : null;
}
