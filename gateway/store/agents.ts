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
  createdAt: string;
}

interface AgentRow {
  id: string;
  email: string;
  name: string;
  team: string;
  disabled_at: Date | null;
  created_at: Date;
  password_hash: string;
}

const toAgent = (r: AgentRow): Agent => ({
  id: Number(r.id),
  email: r.email,
  name: r.name,
  team: r.team,
  disabled: r.disabled_at !== null,
  createdAt: r.created_at.toISOString(),
});

/** Email as stored and looked up: trimmed, lower case. */
export const agentEmail = (email: string) => email.trim().toLowerCase();

/** Creates an agent. @throws JunctionError GW_AGENT_EXISTS */
export async function addAgent(db: Db, input: { email: string; name: string; team: string; password: string }): Promise<Agent> {
  const hash = await hashPassword(input.password);
  try {
    const { rows } = await db.query<AgentRow>(
      `INSERT INTO gateway.agent (email, name, team, password_hash) VALUES ($1, $2, $3, $4) RETURNING *`,
      [agentEmail(input.email), input.name, input.team, hash],
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

export async function getAgent(db: Db, id: number): Promise<Agent | null> {
  const { rows } = await db.query<AgentRow>('SELECT * FROM gateway.agent WHERE id = $1', [id]);
  return rows[0] ? toAgent(rows[0]) : null;
}

/** Disables (or re-enables) an agent by email. @throws JunctionError GW_AGENT_NOT_FOUND */
export async function setAgentDisabled(db: Db, email: string, disabled: boolean): Promise<Agent> {
  const { rows } = await db.query<AgentRow>(
    `UPDATE gateway.agent SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END WHERE email = $1 RETURNING *`,
    [agentEmail(email), disabled],
  );
  if (!rows[0]) throw new JunctionError('GW_AGENT_NOT_FOUND', `no agent with email ${agentEmail(email)}`);
  return toAgent(rows[0]);
}
