/** `junction agents add | list | disable | enable | capacity | team | passwd`: the chat gateway's agent accounts. */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import * as z from 'zod';
import { stackSettings } from '../../config/env.js';
import { JunctionError } from '../../config/errors.js';
import { isConfigErrors, type ResolvedConfig } from '../../config/load.js';
import { DEFAULT_REDIS_PREFIX, GatewayKeys, type FanoutEvent } from '../../gateway/events.js';
import { addAgent, agentEmail, listAgents, movedReason, setAgentCapacity, setAgentDisabled, setAgentPassword, setAgentTeam, type Agent } from '../../gateway/store/agents.js';
import { loadCliConfig } from '../sources.js';
import { connectRedis } from '../cli-redis.js';
import { printJson } from '../json-output.js';
import { hubClient } from '../../sql/hub-connection.js';

async function withDb<T>(fn: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = hubClient(stackSettings().services.postgres.url);
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Closes the agent's open sockets on every gateway instance (the upgrade refuses them from now on anyway). */
async function kick(agent: Agent, event: FanoutEvent = { e: 'kick', reason: 'agent disabled' }): Promise<void> {
  let redis: Redis | undefined;
  try {
    redis = await connectRedis(stackSettings().services.redis.url, { retryStrategy: () => null });
    await redis.publish(new GatewayKeys(DEFAULT_REDIS_PREFIX).agent(agent.id), JSON.stringify(event));
  } catch (err) {
    // A socket ends with its token, which a disabled agent cannot refresh; the reassignment
    // sweep also kicks again an agent who still holds conversations.
    console.error(`warning: open sockets of ${agent.email} were not closed now (${(err as Error).message}); they close when their token expires (gateway.agent_token_ttl_s)`);
  } finally {
    redis?.disconnect();
  }
}

/** What the gateway's login accepts (gateway/http/auth-routes.ts): longer emails could never log in. */
const MAX_EMAIL = 254;
const MIN_PASSWORD = 8;
const TEAM_NAME = /^[a-z][a-z0-9_]*$/;

const invalid = (message: string) => new JunctionError('GW_AGENT_INVALID', message);

/** What login accepts (gateway/http/auth-routes.ts): a longer password could never log in. */
const MAX_PASSWORD = 1024;

/** A password read from standard input: at least MIN_PASSWORD characters, at most what login accepts. */
function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD) throw invalid(`the password read from standard input has ${password.length} characters; at least ${MIN_PASSWORD} are needed`);
  if (password.length > MAX_PASSWORD) throw invalid(`the password read from standard input has ${password.length} characters; login accepts at most ${MAX_PASSWORD}`);
}

/** Checks what `agents add` was given, before a password is read or anything is stored. */
function checkNewAgent(opts: { email: string; name: string; team: string }): void {
  const email = agentEmail(opts.email);
  // The same address pattern as identity emails (pipelines/normalize.ts).
  if (!email || email.length > MAX_EMAIL || !z.regexes.email.test(email)) {
    throw invalid(`--email ${JSON.stringify(opts.email)} is not an email address`);
  }
  if (!opts.name.trim()) throw invalid('--name is empty');
  if (!TEAM_NAME.test(opts.team)) throw invalid(`--team ${JSON.stringify(opts.team)} is not a team name: use a-z, 0-9 and _, starting with a letter`);
}

/**
 * The teams the config routes conversations to. An agent may open a team of its own (it is
 * offered as a transfer target), so another team is accepted, with a warning: a typo would
 * otherwise leave the agent waiting for conversations that never come.
 */
function warnUnroutedTeam(config: ResolvedConfig, team: string): void {
  const routed = new Set([config.gateway.default_team, ...config.gateway.routing.map((r) => r.team)]);
  if (!routed.has(team)) {
    console.error(`warning: no routing rule names team ${team} and it is not gateway.default_team (${[...routed].sort().join(', ')}); its agents get conversations by transfer only`);
  }
}

/**
 * The config for the routing warning, or undefined when it does not load: a host that adds
 * agents need not have the sources' environment variables, and a warning is no reason to
 * refuse the agent.
 */
async function configForWarning(file: string | undefined, team: string): Promise<ResolvedConfig | undefined> {
  try {
    return await loadCliConfig(file);
  } catch (err) {
    const reason = isConfigErrors(err) ? (err.errors[0]?.format() ?? err.message) : err instanceof Error ? err.message : String(err);
    console.error(`note: team ${team} is not checked against the routing rules: the config did not load (${reason.split('\n')[0]})`);
    return undefined;
  }
}

function printAgents(agents: Agent[]): void {
  if (agents.length === 0) {
    console.log('no agents (add one with junction agents add)');
    return;
  }
  const w = Math.max(5, ...agents.map((a) => a.email.length));
  console.log(`${'ID'.padEnd(5)} ${'EMAIL'.padEnd(w)}  ${'TEAM'.padEnd(12)} ${'STATUS'.padEnd(8)} NAME`);
  for (const a of agents) console.log(`${String(a.id).padEnd(5)} ${a.email.padEnd(w)}  ${a.team.padEnd(12)} ${(a.disabled ? 'disabled' : 'active').padEnd(8)} ${a.name}`);
}

/** An agent's own capacity given on the command line: 0 to 1000, as `gateway.agent_capacity`. */
function capacityArgument(text: string): number {
  if (!/^\d{1,4}$/.test(text) || Number(text) > 1000) {
    throw new JunctionError('GW_AGENT_INVALID', `capacity ${JSON.stringify(text)}: expected a whole number from 0 to 1000`);
  }
  return Number(text);
}

export function registerAgents(program: Command): void {
  const agents = program.command('agents').description('chat agents: add, list, disable, enable, capacity, team, passwd');

  agents
    .command('add')
    .description('add an agent; prints a generated password unless --password-stdin is given')
    .requiredOption('--email <email>', 'login email')
    .requiredOption('--name <name>', 'display name')
    .option('--team <team>', 'team (default: gateway.default_team of the config)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--capacity <n>', 'open conversations this agent holds at once, 0-1000 (default: gateway.agent_capacity)', capacityArgument)
    .option('-c, --config <file>', 'config file (the default team, and the teams routing knows)')
    .option('--json', 'print the agent as one JSON object')
    .action(async (opts: { email: string; name: string; team?: string; capacity?: number; passwordStdin?: boolean; config?: string; json?: boolean }) => {
      let team = opts.team;
      let config: ResolvedConfig | undefined;
      if (team === undefined) {
        // Without --team the config names the team, and must load.
        config = await loadCliConfig(opts.config);
        team = config.gateway.default_team;
      }
      checkNewAgent({ ...opts, team });
      config ??= await configForWarning(opts.config, team);
      if (config) warnUnroutedTeam(config, team);
      const password = opts.passwordStdin ? await readStdin() : randomBytes(12).toString('base64url');
      checkPassword(password);
      const agent = await withDb((db) => addAgent(db, { email: opts.email, name: opts.name, team, password, capacity: opts.capacity ?? null }));
      if (opts.json) printJson({ ...agent, ...(opts.passwordStdin ? {} : { password }) });
      else {
        console.log(`added agent ${agent.id} ${agent.email} (team ${agent.team})`);
        if (!opts.passwordStdin) console.log(`password: ${password}  (shown once)`);
      }
    });

  agents
    .command('list')
    .description('list agents')
    .option('--json', 'print one JSON object {agents}')
    .action(async (opts: { json?: boolean }) => {
      const list = await withDb((db) => listAgents(db));
      if (opts.json) printJson({ agents: list });
      else printAgents(list);
    });

  agents
    .command('disable <email>')
    .description('disable an agent: login and new sockets are refused, open sockets are closed (4403)')
    .action(async (email: string) => {
      const agent = await withDb((db) => setAgentDisabled(db, email, true));
      await kick(agent);
      console.log(`disabled agent ${agent.id} ${agent.email}`);
    });

  agents
    .command('capacity <email> <n>')
    .description("set how many open conversations an agent holds at once; 'default' goes back to gateway.agent_capacity (applies from the next assignment)")
    .option('--json', 'print the agent as one JSON object')
    .action(async (email: string, n: string, opts: { json?: boolean }) => {
      const capacity = n === 'default' ? null : capacityArgument(n);
      const agent = await withDb((db) => setAgentCapacity(db, email, capacity));
      if (opts.json) printJson(agent);
      else console.log(`agent ${agent.id} ${agent.email}: capacity ${agent.capacity ?? 'gateway.agent_capacity (default)'}`);
    });

  agents
    .command('team <email> <team>')
    .description('move an agent to another team: its open sockets close (4401) and reconnect with a renewed token; its conversations stay its own')
    .option('-c, --config <file>', 'config file (the teams routing knows)')
    .option('--json', 'print the agent as one JSON object')
    .action(async (email: string, team: string, opts: { config?: string; json?: boolean }) => {
      if (!TEAM_NAME.test(team)) throw invalid(`team ${JSON.stringify(team)} is not a team name: use a-z, 0-9 and _, starting with a letter`);
      const config = await configForWarning(opts.config, team);
      if (config) warnUnroutedTeam(config, team);
      const { agent, from } = await withDb((db) => setAgentTeam(db, email, team));
      if (from !== team) await kick(agent, { e: 'kick', reason: `${movedReason(agent.id, from, team)}: renew the token at POST /api/auth/refresh and reconnect`, tokenInvalid: true });
      if (opts.json) printJson(agent);
      else console.log(from === team ? `agent ${agent.id} ${agent.email} is already in team ${team}` : `moved agent ${agent.id} ${agent.email} from team ${from} to ${team}`);
    });

  agents
    .command('passwd <email>')
    .description("set a new password (prints a generated one unless --password-stdin is given); the agent's existing logins end: open sockets close (4401), tokens are refused")
    .option('--password-stdin', 'read the password from standard input')
    .option('--json', 'print the agent as one JSON object (with the generated password)')
    .action(async (email: string, opts: { passwordStdin?: boolean; json?: boolean }) => {
      const password = opts.passwordStdin ? await readStdin() : randomBytes(12).toString('base64url');
      checkPassword(password);
      const agent = await withDb((db) => setAgentPassword(db, email, password));
      await kick(agent, { e: 'kick', reason: `agent ${agent.id}'s password was changed: log in again`, tokenInvalid: true });
      if (opts.json) printJson({ ...agent, ...(opts.passwordStdin ? {} : { password }) });
      else {
        console.log(`new password for agent ${agent.id} ${agent.email}; their earlier logins are revoked`);
        if (!opts.passwordStdin) console.log(`password: ${password}  (shown once)`);
      }
    });

  agents
    .command('enable <email>')
    .description('enable a disabled agent again')
    .action(async (email: string) => {
      const agent = await withDb((db) => setAgentDisabled(db, email, false));
      console.log(`enabled agent ${agent.id} ${agent.email}`);
    });
}
