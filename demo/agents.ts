/**
 * The demo's agent logins: one agent per team the demo config routes to (`gateway.default_team`
 * and every `gateway.routing` team), e.g. `support@demo.junction` / `Lin (support)`, all with
 * the password {@link DEMO_AGENT_PASSWORD}. Like the demo admin token, that password is
 * public: it is for the local demo only; real agents are added with `junction agents add`.
 *
 * Idempotent: an agent whose email exists is left exactly as it is (its password, team, and
 * disabled state included), so `junction demo` can run again without undoing anything.
 */
import { isJunctionError } from '../config/errors.js';
import { addAgent, agentEmail } from '../gateway/store/agents.js';
import type { Db } from '../gateway/store/db.js';

/** Public on purpose (printed by `junction demo`): never use it outside the demo. */
export const DEMO_AGENT_PASSWORD = 'junction-demo';

export interface DemoAgent {
  email: string;
  name: string;
  team: string;
}

/** Given names of the demo agents, by team; other teams get a generic one. */
const NAMES: Record<string, string> = { support: 'Lin', billing: 'Chen', logistics: 'Zhao', english: 'Emma' };

/** The teams the gateway routes to: the default team first, then the routing rules' teams in order. */
export function demoTeams(gateway: { default_team: string; routing: readonly { team: string }[] }): string[] {
  return [...new Set([gateway.default_team, ...gateway.routing.map((r) => r.team)])];
}

/** The demo agent of each team (emails `<team>@demo.junction`). */
export function demoAgents(teams: readonly string[]): DemoAgent[] {
  return teams.map((team) => ({ email: `${team}@demo.junction`, name: `${NAMES[team] ?? 'Alex'} (${team})`, team }));
}

export interface EnsureResult {
  created: DemoAgent[];
  /** Already there (left alone). */
  existing: DemoAgent[];
}

/** Creates the demo agents that do not exist yet (needs the `gateway` migrations). */
export async function ensureDemoAgents(db: Db, teams: readonly string[]): Promise<EnsureResult> {
  const wanted = demoAgents(teams);
  const { rows } = await db.query<{ email: string }>('SELECT email FROM gateway.agent WHERE email = ANY($1::text[])', [wanted.map((a) => agentEmail(a.email))]);
  const have = new Set(rows.map((r) => r.email));
  const result: EnsureResult = { created: [], existing: [] };
  for (const agent of wanted) {
    if (have.has(agentEmail(agent.email))) {
      result.existing.push(agent);
      continue;
    }
    try {
      await addAgent(db, { ...agent, password: DEMO_AGENT_PASSWORD });
      result.created.push(agent);
    } catch (err) {
      // Added meanwhile by another run: it exists, which is all this wants.
      if (!isJunctionError(err) || err.code !== 'GW_AGENT_EXISTS') throw err;
      result.existing.push(agent);
    }
  }
  return result;
}
