/**
 * Who is online, in Redis, shared by every instance. Each participant (`agent:7`,
 * `visitor:<uuid>`) has a sorted set of its live sockets scored by expiry time; an online
 * agent is also in its team's set. Heartbeats push the expiry forward, so the sockets of
 * an instance that died (kill -9) drop out after the TTL without anyone cleaning up.
 * Connect and disconnect are Lua scripts: "first socket up" and "last socket down" must be
 * decided atomically when two instances see the same agent at once.
 */
import type { Redis } from 'ioredis';
import type { GatewayKeys } from './events.js';

// KEYS: participant set, [team set]. ARGV: now, expiry, socket, ttl ms, [agent id].
const CONNECT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if #KEYS > 1 then
  redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return before == 0 and 1 or 0`;

// KEYS: participant set, [team set]. ARGV: now, socket, [agent id].
const DISCONNECT = `
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local left = redis.call('ZCARD', KEYS[1])
if left == 0 and #KEYS > 1 then redis.call('ZREM', KEYS[2], ARGV[3]) end
return left == 0 and 1 or 0`;

/** One live socket, as presence knows it. */
export interface PresenceEntry {
  participantId: string;
  /** The agent's team (agents only). */
  team?: string;
  /** Unique per socket across instances: `<instance>:<session>`. */
  socketKey: string;
}

/** How long "last seen" survives an agent's absence (far beyond any grace period). */
const SEEN_TTL_MS = 7 * 24 * 3600 * 1000;

export class Presence {
  /**
   * @param ttlMs how long a socket counts as online after its last heartbeat (a few heartbeats)
   */
  constructor(
    private readonly redis: Redis,
    private readonly keys: GatewayKeys,
    private readonly ttlMs: number,
  ) {}

  private keysOf(e: PresenceEntry): string[] {
    return e.team ? [this.keys.presence(e.participantId), this.keys.teamPresence(e.team)] : [this.keys.presence(e.participantId)];
  }

  private static agentId(e: PresenceEntry): string[] {
    return e.team ? [e.participantId.slice('agent:'.length)] : [];
  }

  /** Registers a socket. @returns true when it is the participant's first live socket. */
  async connect(e: PresenceEntry, now = Date.now()): Promise<boolean> {
    const keys = this.keysOf(e);
    const args = [now, now + this.ttlMs, e.socketKey, this.ttlMs, ...Presence.agentId(e)];
    const first = (await this.redis.eval(CONNECT, keys.length, ...keys, ...args)) === 1;
    if (e.team) await this.redis.set(this.keys.seen(Number(Presence.agentId(e)[0])), now, 'PX', SEEN_TTL_MS);
    return first;
  }

  /** Removes a socket. @returns true when the participant has no live socket left. */
  async disconnect(e: PresenceEntry, now = Date.now()): Promise<boolean> {
    const keys = this.keysOf(e);
    const gone = (await this.redis.eval(DISCONNECT, keys.length, ...keys, now, e.socketKey, ...Presence.agentId(e))) === 1;
    if (e.team) await this.redis.set(this.keys.seen(Number(Presence.agentId(e)[0])), now, 'PX', SEEN_TTL_MS);
    return gone;
  }

  /** Pushes the expiry of live sockets forward, all in one round trip. */
  async refresh(entries: readonly PresenceEntry[], now = Date.now()): Promise<void> {
    if (entries.length === 0) return;
    const expiry = now + this.ttlMs;
    const p = this.redis.pipeline();
    for (const e of entries) {
      const key = this.keys.presence(e.participantId);
      p.zadd(key, expiry, e.socketKey).pexpire(key, this.ttlMs);
      if (e.team) {
        p.zadd(this.keys.teamPresence(e.team), 'GT', expiry, Presence.agentId(e)[0]!).pexpire(this.keys.teamPresence(e.team), this.ttlMs);
        p.set(this.keys.seen(Number(Presence.agentId(e)[0])), now, 'PX', SEEN_TTL_MS);
      }
    }
    await p.exec();
  }

  /** Ids of the team's agents with a live socket. */
  async onlineAgents(team: string, now = Date.now()): Promise<number[]> {
    const ids = await this.redis.zrangebyscore(this.keys.teamPresence(team), now, '+inf');
    return ids.map(Number);
  }

  async isOnline(participantId: string, now = Date.now()): Promise<boolean> {
    return (await this.redis.zcount(this.keys.presence(participantId), now, '+inf')) > 0;
  }

  /**
   * When each agent was last seen connected (ms). An agent never seen (or seen too long ago
   * for the record to survive) is recorded as seen `now`, so their grace period starts at the
   * first sweep that notices them, never before.
   */
  async lastSeen(agentIds: readonly number[], now = Date.now()): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (agentIds.length === 0) return out;
    const values = await this.redis.mget(...agentIds.map((id) => this.keys.seen(id)));
    const unknown: number[] = [];
    agentIds.forEach((id, i) => {
      const v = values[i];
      if (v === null || v === undefined) unknown.push(id);
      else out.set(id, Number(v));
    });
    if (unknown.length > 0) {
      const p = this.redis.pipeline();
      for (const id of unknown) p.set(this.keys.seen(id), now, 'PX', SEEN_TTL_MS, 'NX');
      await p.exec();
      const again = await this.redis.mget(...unknown.map((id) => this.keys.seen(id)));
      unknown.forEach((id, i) => out.set(id, Number(again[i] ?? now)));
    }
    return out;
  }
}
