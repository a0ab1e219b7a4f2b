/**
 * What gateway instances tell each other through Redis pub/sub. These are trusted (only
 * gateway processes publish), so they are typed, not validated. Channels:
 *
 * | channel | carries |
 * |---|---|
 * | `conv:<id>` | messages, typing, read receipts, conversation changes, presence of its participants |
 * | `agent:<id>` | conversations assigned to that agent, and `kick` when the agent is disabled or moved to another team |
 * | `team:<name>` | conversations queued for the team (and leaving the queue), agents going on/offline |
 * | `visitor:<uuid>` | the visitor's conversations (a second tab learns of a new one) |
 */
import type { ConversationSummary } from './protocol.js';

export interface MessageRecord {
  conversationId: number;
  seq: number;
  sender: { kind: 'visitor' | 'agent' | 'system'; id: string };
  clientMsgId: string;
  text: string;
  at: string;
}

export type ConversationEventKind = 'assigned' | 'queued' | 'transferred' | 'closed' | 'reopened' | 'relinked';

export type FanoutEvent =
  | { e: 'msg'; message: MessageRecord }
  | {
      e: 'conversation';
      /** Unique per event: a session subscribed to two of its channels acts once. */
      eventId: string;
      event: ConversationEventKind;
      conversation: ConversationSummary;
    }
  | { e: 'typing'; conversationId: number; who: string; on: boolean }
  | { e: 'read'; conversationId: number; who: string; seq: number }
  | { e: 'presence'; who: string; online: boolean; conversationId?: number }
  /**
   * `tokenInvalid`: the agent's tokens no longer hold (moved to another team, password
   * changed): close with 4401 GW_TOKEN_INVALID and `reason`, rather than 4403 (disabled).
   */
  | { e: 'kick'; reason: string; tokenInvalid?: boolean }
  /** A publish about this conversation failed earlier (see Fanout): read it again from PostgreSQL. */
  | { e: 'resync'; conversationId: number };

/** Default prefix of the gateway's Redis keys and channels (one Cluster hash tag). */
export const DEFAULT_REDIS_PREFIX = '{junction}:gw:';

/** Channel and key names under one prefix (a Redis Cluster hash tag by default). */
export class GatewayKeys {
  constructor(readonly prefix: string) {}
  conversation = (id: number) => `${this.prefix}conv:${id}`;
  agent = (id: number) => `${this.prefix}agent:${id}`;
  team = (team: string) => `${this.prefix}team:${team}`;
  visitor = (id: string) => `${this.prefix}visitor:${id}`;
  /** Sorted set of a participant's live sockets (member socket key, score expiry ms). */
  presence = (participantId: string) => `${this.prefix}presence:${participantId}`;
  /** Sorted set of a team's online agents (member agent id, score expiry ms). */
  teamPresence = (team: string) => `${this.prefix}presence-team:${team}`;
  /** When an agent was last seen connected (ms), for reassignment after `reconnect_grace_ms`. */
  seen = (agentId: number) => `${this.prefix}seen:agent:${agentId}`;
  /** Cached answer of a live lookup. */
  lookup = (source: string, lookup: string, digest: string) => `${this.prefix}lookup:${source}:${lookup}:${digest}`;
}

/** `visitor:<uuid>` / `agent:<id>` → its kind. */
export function participantKind(id: string): 'visitor' | 'agent' | 'system' {
  return id.startsWith('agent:') ? 'agent' : id.startsWith('visitor:') ? 'visitor' : 'system';
}
