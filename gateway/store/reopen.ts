/**
 * Reopening: a visitor's message on a conversation closed less than `gateway.reopen_within_s`
 * ago opens it again (same id, seqs go on, the agent who had it first in line), instead of
 * starting a second conversation beside the history the agent needs.
 */
import type pg from 'pg';
import type { ConversationSummary } from '../protocol.js';
import { COLUMNS, toSummary, type ConversationRow } from './conversations.js';

/** Why a conversation cannot be reopened: not this visitor's or not closed recently enough, or the visitor has another open one. */
export type NotReopenable = 'not-reopenable' | 'other-open';

/**
 * Locks the visitor (the same lock a first message takes, so a reopen and a new conversation
 * cannot both happen) and the closed conversation. Returns its team and last agent, or the
 * conversation itself when it is open already: another socket of the visitor (a second tab)
 * reopened it a moment ago, and this one had not heard yet.
 */
export async function lockReopenable(
  tx: pg.PoolClient,
  conversationId: number,
  visitorId: string,
  withinSeconds: number,
): Promise<{ team: string; previousAgentId: number | null } | { alreadyOpen: ConversationSummary } | NotReopenable> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('junction.gateway.visitor'), hashtext($1))`, [visitorId]);
  const { rows: own } = await tx.query<ConversationRow>(
    `SELECT ${COLUMNS} FROM gateway.conversation WHERE id = $1 AND visitor_id = $2 AND status = 'open'`,
    [conversationId, visitorId],
  );
  if (own[0]) return { alreadyOpen: toSummary(own[0]) };
  const { rows: open } = await tx.query(`SELECT 1 FROM gateway.conversation WHERE visitor_id = $1 AND status = 'open' LIMIT 1`, [visitorId]);
  if (open.length > 0) return 'other-open';
  const { rows } = await tx.query<{ team: string; assigned_agent_id: string | null }>(
    `SELECT team, assigned_agent_id FROM gateway.conversation
      WHERE id = $1 AND visitor_id = $2 AND status = 'closed' AND closed_at > now() - make_interval(secs => $3)
      FOR NO KEY UPDATE`,
    [conversationId, visitorId, withinSeconds],
  );
  const r = rows[0];
  if (!r) return 'not-reopenable';
  return { team: r.team, previousAgentId: r.assigned_agent_id === null ? null : Number(r.assigned_agent_id) };
}

/** Opens a locked closed conversation again, assigned to `agentId` or queued (null). */
export async function reopenLocked(tx: pg.PoolClient, conversationId: number, agentId: number | null): Promise<ConversationSummary> {
  const { rows } = await tx.query<ConversationRow>(
    `UPDATE gateway.conversation SET status = 'open', closed_at = NULL, closed_by = NULL, reopened_at = now(),
            reopen_count = reopen_count + 1, assigned_agent_id = $2, assigned_at = CASE WHEN $2::bigint IS NULL THEN NULL ELSE now() END,
            updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [conversationId, agentId],
  );
  return toSummary(rows[0]!);
}
