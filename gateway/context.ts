/** What every part of one gateway instance shares: settings, connections, the message path. */
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../config/log.js';
import type { CountryCode } from '../pipelines/normalize.js';
import type { ChatAnalytics } from './analytics.js';
import type { Router } from './assign.js';
import type { ContextService } from './enrich/context-service.js';
import type { GatewayKeys } from './events.js';
import type { Fanout } from './fanout.js';
import type { Presence } from './presence.js';
import type { AppendRequest, AppendResult } from './store/append.js';
import type { GroupCommit } from './store/group-commit.js';
import type { ReceiptWriter } from './store/receipts.js';
import type { GatewaySettings } from './settings.js';

export type { GatewaySettings } from './settings.js';

export interface GatewayContext {
  settings: GatewaySettings & { token_secret: string };
  /** `identity.default_region`, for signed phones. */
  region: CountryCode;
  instanceId: string;
  pool: pg.Pool;
  redis: Redis;
  keys: GatewayKeys;
  fanout: Fanout;
  presence: Presence;
  /** Stores a message (group commit), publishes it, then resolves: acked means durable and sent on. */
  messages: GroupCommit<AppendRequest, AppendResult>;
  receipts: ReceiptWriter;
  router: Router;
  /** Context panels: watches of linked conversations, `customer.updated`. */
  context: ContextService;
  /** Chat rows for ClickHouse, batched off the message path. */
  analytics: ChatAnalytics;
  log: Logger;
}
