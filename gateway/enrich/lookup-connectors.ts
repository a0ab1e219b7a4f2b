/** The sources that `gateway.lookups` names: one connector each, and its turn in the source's shared rate window. */
import { JunctionError } from '../../config/errors.js';
import type { DeepReadonly } from '../../config/load.js';
import type { Logger } from '../../config/log.js';
import type { SourceConfig } from '../../config/schema.js';
import { createConnector } from '../../connectors/index.js';
import type { SharedRateLimit } from '../../connectors/rest/limiter.js';
import type { Connector } from '../../connectors/types.js';
import type { GatewaySettings } from '../settings.js';
import { sharedWindowAdmission, type Admission } from './shared-window.js';

/** What live lookups need of one source. */
export interface LookupSource {
  connector: Connector;
  /**
   * Takes one request from the source's shared rate window without waiting (false: none left
   * in this window). Absent: the source has no `rate_limit`, or no shared window was given.
   */
  admit?: Admission;
}

/**
 * One connector per looked-up source. With `rate`, a source's `rate_limit` is counted in the
 * same Redis window as the sync workers' (`redisKeys.rateLimit`): it holds "for the source as
 * a whole", and each gateway process would otherwise add its own rate on top of theirs. The
 * window is taken by `admit` (which never waits), not by the connector, whose gate would queue
 * for it; the connector keeps its `rate_limit` for this process alone.
 * @throws JunctionError CFG_UNKNOWN_REF for a source not given
 */
export function lookupSources(
  settings: GatewaySettings,
  sources: Readonly<Record<string, DeepReadonly<SourceConfig>>>,
  log: Logger,
  rate?: (source: string) => SharedRateLimit,
): Map<string, LookupSource> {
  const out = new Map<string, LookupSource>();
  for (const l of settings.lookups) {
    if (out.has(l.source)) continue;
    const config = Object.hasOwn(sources, l.source) ? sources[l.source] : undefined;
    if (!config) throw new JunctionError('CFG_UNKNOWN_REF', `gateway.lookups names source ${l.source}, which startGateway was not given`, { where: { path: 'gateway.lookups', source: l.source } });
    const connector = createConnector(l.source, config as { type: string }, { log: log.child({ source: l.source }) });
    const perSecond = config.type === 'rest' ? config.rate_limit?.per_second : undefined;
    out.set(l.source, { connector, ...(rate && perSecond !== undefined ? { admit: sharedWindowAdmission(perSecond, rate(l.source)) } : {}) });
  }
  return out;
}
