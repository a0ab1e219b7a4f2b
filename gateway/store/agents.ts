/** Agents (`gateway.agent`): created and disabled by `junction agents`, read by login and the upgrade. */
import type pg from 'pg';
import { JunctionError } from '../../config/errors.js';
import { hashPassword } from '../auth/password.js';
import type { Db } from './db.js';

export interface Agent {
  id: number;
  email: string;
  name: string;
  team: string;
  disabled: boolean;
  /** Open conversations this agent holds at once; null: `gateway.agent_capacity`. */
  capacity: number | null;
  createdAt: string;
  /** When its logins were last revoked (ISO: password changed, or disabled); null: never. */
  tokensValidAfter: string | null;
  /** Raised by each revocation; a token signed in another epoch is refused. */
  tokenEpoch: number;
}

interface AgentRow {
  id: string;
  email: string;
  name: string;
  team: string;
  disabled_at: Date | null;
  capacity: number | null;
  created_at: Date;
  password_hash: string;
  tokens_valid_after: Date | null;
  token_epoch: number;
}

const toAgent = (r: AgentRow): Agent => ({
  id: Number(r.id),
  email: r.email,
  name: r.name,
  team: r.team,
  disabled: r.disabled_at !== null,
  capacity: r.capacity,
  createdAt: r.created_at.toISOString(),
  tokensValidAfter: r.tokens_valid_after?.toISOString() ?? null,
  tokenEpoch: r.token_epoch,
});

/** Why a token signed in token epoch `epoch` no longer holds for `agent`, or null when it does. */
export function revokedLogin(agent: Agent, epoch: number): string | null {
  if (epoch === agent.tokenEpoch) return null;
  return `agent ${agent.id}'s logins were revoked${agent.tokensValidAfter ? ` at ${agent.tokensValidAfter}` : ''} (password changed or agent disabled): log in again`;
}

/** Email as stored and looked up: trimmed, lower case. */
export const agentEmail = (email: string) => email.trim().toLowerCase();

/** Creates an agent. @throws JunctionError GW_AGENT_EXISTS */
export async function addAgent(db: Db, input: { email: string; name: string; team: string; password: string; capacity?: number | null }): Promise<Agent> {
  const hash = await hashPassword(input.password);
  try {
    const { rows } = await db.query<AgentRow>(
      `INSERT INTO gateway.agent (email, name, team, password_hash, capacity) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [agentEmail(input.email), input.name, input.team, hash, input.capacity ?? null],
    );
    return toAgent(rows[0]!);
  } catch (err) {
    if ((err as pg.DatabaseError).code === '23505') {
      throw new JunctionError('GW_AGENT_EXISTS', `an agent with email ${agentEmail(input.email)} already exists`, { cause: err });
    }
    throw err;
  }
}

export async function listAgents(db: Db): Promise<Agent[]> {
  const { rows } = await db.query<AgentRow>('SELECT * FROM gateway.agent ORDER BY id');
  return rows.map(toAgent);
}

/** The agent and its password hash, for login. */
export async function findAgentForLogin(db: Db, email: string): Promise<(Agent & { passwordHash: string }) | null> {
  const { rows } = await db.query<AgentRow>('SELECT * FROM gateway.agent WHERE email = $1', [agentEmail(email)]);
  return rows[0] ? { ...toAgent(rows[0]), passwordHash: rows[0].password_hash } : null;
}

/** The agents of `ids` that exist. */
export async function getAgents(db: Db, ids: readonly number[]): Promise<Agent[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<AgentRow>('SELECT * FROM gateway.agent WHERE id = ANY($1::bigint[])', [ids]);
  return rows.map(toAgent);
}

export async function getAgent(db: Db, id: number): Promise<Agent | null> {
  const { rows } = await db.query<AgentRow>('SELECT * FROM gateway.agent WHERE id = $1', [id]);
  return rows[0] ? toAgent(rows[0]) : null;
}

/** Disables (or re-enables) an agent by email. @throws JunctionError GW_AGENT_NOT_FOUND */
export async function setAgentDisabled(db: Db, email: string, disabled: boolean): Promise<Agent> {
  const { rows } = await db.query<AgentRow>(
    `UPDATE gateway.agent SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END,
       tokens_valid_after = CASE WHEN $2 THEN now() ELSE tokens_valid_after END,
       token_epoch = CASE WHEN $2 THEN token_epoch + 1 ELSE token_epoch END WHERE email = $1 RETURNING *`,
    [agentEmail(email), disabled],
  );
  if (!rows[0]) throw new JunctionError('GW_AGENT_NOT_FOUND', `no agent with email ${agentEmail(email)}`);
  return toAgent(rows[0]);
}

/** Sets a new password and revokes every token of an earlier login. @throws JunctionError GW_AGENT_NOT_FOUND */
export async function setAgentPassword(db: Db, email: string, password: string): Promise<Agent> {
  const hash = await hashPassword(password);
  const { rows } = await db.query<AgentRow>('UPDATE gateway.agent SET password_hash = $2, tokens_valid_after = now(), token_epoch = token_epoch + 1 WHERE email = $1 RETURNING *', [agentEmail(email), hash]);
  if (!rows[0]) throw new JunctionError('GW_AGENT_NOT_FOUND', `no agent with email ${agentEmail(email)}`);
  return toAgent(rows[0]);
}

/** The teams of enabled agents. */
export async function agentTeams(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ team: string }>('SELECT DISTINCT team FROM gateway.agent WHERE disabled_at IS NULL ORDER BY team');
  return rows.map((r) => r.team);
}

/** Moves an agent to another team; their conversations stay theirs. @throws JunctionError GW_AGENT_NOT_FOUND */
export async function setAgentTeam(db: Db, email: string, team: string): Promise<{ agent: Agent; from: string }> {
  const { rows } = await db.query<AgentRow & { from_team: string }>(
    `UPDATE gateway.agent a SET team = $2 FROM gateway.agent old WHERE old.id = a.id AND a.email = $1 RETURNING a.*, old.team AS from_team`,
    [agentEmail(email), team],
  );
  if (!rows[0]) throw new JunctionError('GW_AGENT_NOT_FOUND', `no agent with email ${agentEmail(email)}`);
  return { agent: toAgent(rows[0]), from: rows[0].from_team };
}

/** Why an agent's socket or token no longer holds after a move. */
export function movedReason(agentId: number, from: string, to: string): string {
  return `agent ${agentId} moved from team ${from} to ${to}`;
}

/**
 * Replaces a password hash after a successful login (a legacy scrypt hash, or weaker
 * argon2 parameters). Only if it is still the one that was verified: a concurrent password
 * change wins.
 */
export async function replacePasswordHash(db: Db, id: number, verified: string, fresh: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE gateway.agent SET password_hash = $3 WHERE id = $1 AND password_hash = $2', [id, verified, fresh]);
  return rowCount === 1;
}

/** Sets (or clears, with null) an agent's own capacity, by id or login email. @throws JunctionError GW_AGENT_NOT_FOUND */
export async function setAgentCapacity(db: Db, agent: number | string, capacity: number | null): Promise<Agent> {
  const [column, key] = typeof agent === 'number' ? ['id', agent] : ['email', agentEmail(agent)];
  const { rows } = await db.query<AgentRow>(`UPDATE gateway.agent SET capacity = $2 WHERE ${column} = $1 RETURNING *`, [key, capacity]);
  if (!rows[0]) throw new JunctionError('GW_AGENT_NOT_FOUND', typeof agent === 'number' ? `no agent ${agent}` : `no agent with email ${key}`);
  return toAgent(rows[0]);
}
