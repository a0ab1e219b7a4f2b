/**
 * Conversations (`gateway.conversation`): opening one for a visitor's first message,
 * who may see one, transfer and close. Appending messages is `append.ts`'s job.
 */
import type pg from 'pg';
import { isJunctionError, JunctionError } from '../../config/errors.js';
import { participantId, type Principal } from '../auth/token.js';
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
  version: string;
}

/** The columns a {@link ConversationRow} holds. */
export const COLUMNS = 'id, visitor_id, team, assigned_agent_id, customer_id, status, last_seq, created_at, version';

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
    version: Number(r.version),
  };
}

/**
 * The one visibility rule, used by the socket and the REST API alike: a visitor sees their
 * own conversations; an agent sees those assigned to them and their team's queue (open and
 * unassigned). A conversation closed while queued is nobody's on the team: its history and
 * its customer's context are not the whole team's to read for ever.
 */
export function canSee(c: ConversationSummary, p: Principal): boolean {
  if (p.kind === 'visitor') return c.visitorId === p.visitorId;
  return c.assignedAgentId === p.agentId || (c.assignedAgentId === null && c.team === p.team && c.status === 'open');
}

/**
 * The answer for a conversation that exists but is not the caller's to see, write into or
 * change: the same code as for one that does not exist. `details.notYours` tells the
 * caller's socket that its own list of conversations is out of date.
 */
export const notYours = (id: number) => new JunctionError('GW_CONVERSATION_NOT_FOUND', `no conversation ${id} for you`, { details: { notYours: true } });

export function isNotYours(err: unknown): boolean {
  return isJunctionError(err) && err.code === 'GW_CONVERSATION_NOT_FOUND' && err.details?.['notYours'] === true;
}

export async function getConversation(db: Db, id: number): Promise<ConversationSummary | null> {
  const { rows } = await db.query<ConversationRow>(`SELECT ${COLUMNS} FROM gateway.conversation WHERE id = $1`, [id]);
  return rows[0] ? toSummary(rows[0]) : null;
}

/** The conversations of `ids` that exist, in one query. */
export async function getConversations(db: Db, ids: readonly number[]): Promise<ConversationSummary[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<ConversationRow>(`SELECT ${COLUMNS} FROM gateway.conversation WHERE id = ANY($1::bigint[])`, [ids]);
  return rows.map(toSummary);
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

/**
 * The open conversations of `team` that teammates hold (not `agentId`): what an agent sees
 * of their team's work. Summaries only; their messages and customers stay with the holder.
 */
export async function teamConversationsOf(db: Db, team: string, agentId: number): Promise<ConversationSummary[]> {
  const { rows } = await db.query<ConversationRow>(
    `SELECT ${COLUMNS} FROM gateway.conversation
      WHERE status = 'open' AND team = $1 AND assigned_agent_id IS NOT NULL AND assigned_agent_id <> $2
      ORDER BY id`,
    [team, agentId],
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
 * `clientMsgId` opened or was stored in before (a resend: its append answers with the
 * original ack, even after a close), else the visitor's open one, else a new one made by
 * `plan` (routing and assignment, run inside the transaction). Serialized per visitor by an
 * advisory lock, so two tabs sending their first message at once open one conversation.
 */
export async function openConversationFor(
  pool: pg.Pool,
  visitor: Extract<Principal, { kind: 'visitor' }>,
  clientMsgId: string,
  plan: (tx: pg.PoolClient) => Promise<NewConversation>,
  perHour = 0,
): Promise<{ conversation: ConversationSummary; created: boolean }> {
  return inTransaction(pool, async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('junction.gateway.visitor'), hashtext($1))`, [visitor.visitorId]);
    const { rows: existing } = await tx.query<ConversationRow>(
      `(SELECT ${COLUMNS} FROM gateway.conversation WHERE visitor_id = $1 AND opening_client_msg_id = $2)
       UNION ALL
       (SELECT ${COLUMNS} FROM gateway.conversation c WHERE visitor_id = $1
           AND EXISTS (SELECT 1 FROM gateway.message m WHERE m.conversation_id = c.id AND m.sender_id = $3 AND m.client_msg_id = $2)
         ORDER BY id DESC LIMIT 1)
       UNION ALL
       (SELECT ${COLUMNS} FROM gateway.conversation WHERE visitor_id = $1 AND status = 'open' ORDER BY id DESC LIMIT 1)`,
      [visitor.visitorId, clientMsgId, participantId(visitor)],
    );
    if (existing[0]) return { conversation: toSummary(existing[0]), created: false };
    if (perHour > 0) {
      // Exact: the visitor's advisory lock above serializes its openings on every instance.
      const { rows: recent } = await tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM gateway.conversation WHERE visitor_id = $1 AND created_at > now() - interval '1 hour'`,
        [visitor.visitorId],
      );
      if (recent[0]!.n >= perHour) {
        throw new JunctionError('GW_RATE_LIMITED', `this visitor opened ${recent[0]!.n} conversations in the last hour (gateway.visitor_conversations_per_hour); write in one of them, or wait`);
      }
    }
    const next = await plan(tx);
    const { rows } = await tx.query<ConversationRow>(
      `INSERT INTO gateway.conversation (visitor_id, team, assigned_agent_id, assigned_at, customer_id, identity, meta, opening_client_msg_id)
       VALUES ($1, $2, $3, CASE WHEN $3::bigint IS NULL THEN NULL ELSE now() END, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
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

/**
 * {@link canSee} as a condition on gateway.conversation's columns, with `p`'s values as
 * parameters from `$at` on, plus: a disabled agent, or one no longer of the principal's team
 * (moved since its token was signed), acts on nothing. The writes below check
 * it under their row lock, so a socket whose view is out of date (a missed event, a lost
 * kick) cannot act on a conversation it lost.
 */
function seenBy(p: Principal, at: number): { sql: string; params: unknown[] } {
  return p.kind === 'visitor'
    ? { sql: `visitor_id = $${at}`, params: [p.visitorId] }
    : {
        sql: `(assigned_agent_id = $${at}::bigint OR (assigned_agent_id IS NULL AND team = $${at + 1} AND status = 'open'))
              AND EXISTS (SELECT 1 FROM gateway.agent a WHERE a.id = $${at}::bigint AND a.disabled_at IS NULL AND a.team = $${at + 1})`,
        params: [p.agentId, p.team],
      };
}

/**
 * Hands an open conversation `by` sees to an agent (team follows the agent's) or to a
 * team's queue. Null when it is not open or not `by`'s; otherwise the conversation and the
 * agent who had it.
 */
export async function transferConversation(
  db: Db,
  id: number,
  to: { agentId: number; team: string } | { team: string },
  by: Principal,
): Promise<{ conversation: ConversationSummary; previousAgentId: number | null } | null> {
  const mine = seenBy(by, 4);
  const { rows } = await db.query<ConversationRow & { previous_agent_id: string | null }>(
    `WITH old AS (SELECT id, assigned_agent_id FROM gateway.conversation WHERE id = $1 AND status = 'open' AND ${mine.sql} FOR NO KEY UPDATE)
     UPDATE gateway.conversation c SET assigned_agent_id = $2, team = $3, updated_at = now(),
            assigned_at = CASE WHEN $2::bigint IS NULL THEN NULL WHEN c.assigned_agent_id IS DISTINCT FROM $2::bigint THEN now() ELSE c.assigned_at END
       FROM old WHERE c.id = old.id RETURNING ${COLUMNS.split(', ').map((col) => `c.${col}`).join(', ')}, old.assigned_agent_id AS previous_agent_id`,
    [id, 'agentId' in to ? to.agentId : null, to.team, ...mine.params],
  );
  const r = rows[0];
  return r ? { conversation: toSummary(r), previousAgentId: r.previous_agent_id === null ? null : Number(r.previous_agent_id) } : null;
}

/** Closes an open conversation `by` sees. Null when it was not open or is not `by`'s. */
export async function closeConversation(db: Db, id: number, by: Principal, byParticipant: string): Promise<ConversationSummary | null> {
  const mine = seenBy(by, 3);
  const { rows } = await db.query<ConversationRow>(
    `UPDATE gateway.conversation SET status = 'closed', closed_at = now(), closed_by = $2, updated_at = now()
     WHERE id = $1 AND status = 'open' AND ${mine.sql} RETURNING ${COLUMNS}`,
    [id, byParticipant, ...mine.params],
  );
  return rows[0] ? toSummary(rows[0]) : null;
}

/** The columns of {@link COLUMNS} for an UPDATE … FROM, whose other table may have columns of the same names. */
const RETURNING_C = COLUMNS.split(', ').map((c) => `c.${c}`).join(', ');

/** Points the conversations of absorbed customers at the customer they went into. Returns those re-linked, as they are now. */
export async function relinkCustomers(db: Db, absorbed: readonly { id: number; into: number }[]): Promise<ConversationSummary[]> {
  if (absorbed.length === 0) return [];
  // One event may absorb a into b and b into c: every absorbed id goes to its final survivor.
  const into = new Map(absorbed.map((a) => [a.id, a.into]));
  const survivor = (id: number) => {
    let at = id;
    for (let hops = 0; into.has(at) && hops < 64; hops++) at = into.get(at)!;
    return at;
  };
  const ids = [...into.keys()];
  const { rows } = await db.query<ConversationRow>(
    `UPDATE gateway.conversation c SET customer_id = a.survivor, updated_at = now()
       FROM unnest($1::bigint[], $2::bigint[]) AS a(absorbed, survivor) WHERE c.customer_id = a.absorbed RETURNING ${RETURNING_C}`,
    [ids, ids.map(survivor)],
  );
  return rows.map(toSummary);
}

/**
 * Points every conversation still linked to an absorbed customer at the customer it went
 * into: merges whose `customer.updated` event no instance handled (none was running, or
 * Redis lost it), and conversations opened with a visitor token issued before the merge.
 * `unified.customer.merged_into` names the survivor (the pipeline re-points older absorbed
 * customers when their survivor is absorbed), so one hop is enough; should a chain remain,
 * the next call takes the next hop. Returns the conversations re-linked, as they are now.
 */
export async function relinkAbsorbedCustomers(db: Db): Promise<ConversationSummary[]> {
  const { rows } = await db.query<ConversationRow>(
    `UPDATE gateway.conversation c SET customer_id = u.merged_into, updated_at = now()
       FROM unified.customer u WHERE u.id = c.customer_id AND u.merged_into IS NOT NULL RETURNING ${RETURNING_C}`,
  );
  return rows.map(toSummary);
}

/** Open conversations linked to any of `customerIds`. */
export async function openConversationsOfCustomers(db: Db, customerIds: readonly number[]): Promise<ConversationSummary[]> {
  if (customerIds.length === 0) return [];
  const { rows } = await db.query<ConversationRow>(
    `SELECT ${COLUMNS} FROM gateway.conversation WHERE status = 'open' AND customer_id = ANY($1::bigint[]) ORDER BY id`,
    [customerIds],
  );
  return rows.map(toSummary);
}
