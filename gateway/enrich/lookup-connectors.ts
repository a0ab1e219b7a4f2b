/** The connectors of the sources that `gateway.lookups` names, one per source. */
import type { Redis } from 'ioredis';
import { JunctionError } from '../../config/errors.js';
import type { DeepReadonly } from '../../config/load.js';
import type { Logger } from '../../config/log.js';
import type { SourceConfig } from '../../config/schema.js';
import { createConnector } from '../../connectors/index.js';
import type { Connector } from '../../connectors/types.js';
import type { GatewaySettings } from '../context.js';

/** Where a source's request rate is counted for every process (the workers' counter). */
export interface SharedRate {
  redis: Redis;
  key: (source: string) => string;
}

/**
 * One connector per looked-up source. With `rate`, a source's `rate_limit` is counted in the
 * same Redis window as the sync workers' (`redisKeys.rateLimit`): it holds "for the source as
 * a whole", and each gateway process would otherwise add its own rate on top of theirs.
 * @throws JunctionError CFG_UNKNOWN_REF for a source not given
 */
export function lookupConnectors(settings: GatewaySettings, sources: Readonly<Record<string, DeepReadonly<SourceConfig>>>, log: Logger, rate?: SharedRate): Map<string, Connector> {
  const out = new Map<string, Connector>();
  for (const l of settings.lookups) {
    if (out.has(l.source)) continue;
    const config = Object.hasOwn(sources, l.source) ? sources[l.source] : undefined;
    if (!config) throw new JunctionError('CFG_UNKNOWN_REF', `gateway.lookups names source ${l.source}, which startGateway was not given`, { where: { path: 'gateway.lookups', source: l.source } });
    const rateLimit = rate && { redis: rate.redis, key: rate.key(l.source) };
    out.set(l.source, createConnector(l.source, config as { type: string }, { log: log.child({ source: l.source }), ...(rateLimit ? { rateLimit } : {}) }));
  }
  return out;
}
