/**
 * What the jobs tests share: a small config written to a temporary folder (two postgres
 * streams of the demo shop, schedules, an admin token), and a sync queue under a Redis key
 * prefix of the test's own, so that tests never see (or clean) anybody else's jobs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { stackSettings } from '../../config/env.js';
import type { ResolvedConfig } from '../../config/load.js';
import { loadConfig } from '../../config/load.js';
import { SYNC_QUEUE, redisConnection, type SyncJobData, type SyncJobResult } from '../../pipelines/queue.js';
import type { JobKeys } from '../../jobs/stream-activity.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export const SCHEDULES_YAML = `schedules:
  - { name: accounts-every-minute, sync: shop_pg.accounts, cron: "* * * * *" }
  - { name: addresses-nightly, sync: shop_pg.addresses, mode: full, cron: "0 3 * * *", timezone: Asia/Shanghai }
  - { name: accounts-off, sync: shop_pg.accounts, cron: "0 0 1 1 *", enabled: false }
`;

/** The test config's text; `extra` is appended (schedules, ops…). */
export function configYaml(extra: string = `${SCHEDULES_YAML}ops:\n  admin_token: ${ADMIN_TOKEN}\n`): string {
  return `version: 1
sources:
  shop_pg:
    type: postgres
    url: \${SHOP_PG_URL}
    streams:
      accounts: { table: shop.accounts, cursor: [updated_at, id], key: id }
      addresses: { table: shop.addresses, cursor: [updated_at, id], key: id }
${extra}`;
}

/** Writes the config to a fresh temporary folder and returns its path. */
export function writeConfig(yaml: string = configYaml()): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-jobs-'));
  const file = path.join(dir, 'junction.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

export async function testConfig(yaml?: string): Promise<ResolvedConfig> {
  const file = writeConfig(yaml);
  try {
    return await loadConfig(file);
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

export interface TestQueue {
  prefix: string;
  redis: Redis;
  queue: Queue<SyncJobData, SyncJobResult>;
  keys: JobKeys;
  /** Removes the queue and the keys this prefix wrote; closes the connections. */
  close(): Promise<void>;
}

/** A sync queue under `{junction-test-<name>}` on the stack's Redis, emptied first. */
export async function testQueue(name: string): Promise<TestQueue> {
  const prefix = `{junction-test-${name}}`;
  const redis = redisConnection(stackSettings().services.redis.url);
  const queue = new Queue<SyncJobData, SyncJobResult>(SYNC_QUEUE, { connection: redis, prefix });
  const clean = async () => {
    await queue.obliterate({ force: true });
    const stale = await redis.keys(`${prefix}:*`);
    if (stale.length) await redis.del(...stale);
  };
  await clean();
  return {
    prefix,
    redis,
    queue,
    keys: { streamLock: (source, stream) => `${prefix}:lock:${source}.${stream}`, circuit: (source) => `${prefix}:circuit:${source}` },
    close: async () => {
      await clean();
      await queue.close();
      redis.disconnect();
    },
  };
}
