/**
 * The connector registry: one line per kind. Adding a kind touches its file, this list
 * and its test (the sources' discriminated union and the JSON Schema follow from here).
 */
import { JunctionError } from '../config/errors.js';
import type { ConnectorContext, ConnectorSpec } from './spec.js';
import type { Connector } from './types.js';
import { spec as soap } from './soap.js';
import { spec as rest } from './rest.js';
import { spec as postgres } from './postgres.js';
import { spec as mongo } from './mongo.js';
import { spec as oracle } from './oracle.js';

/** Every connector spec, in the order the docs list them. */
export const connectorSpecs = [soap, rest, postgres, mongo, oracle] as const;

/** A connector kind: the `type:` of a source. */
export type ConnectorKind = (typeof connectorSpecs)[number]['type'];

/**
 * The connector for a configured source. A disabled source (e.g. the CRM without
 * ORACLE_URL) is refused with CONN_SOURCE_DISABLED rather than failing on connect.
 */
export function createConnector(source: string, config: { type: string; enabled?: boolean | string }, ctx: ConnectorContext): Connector {
  const spec = connectorSpecs.find((s) => s.type === config.type) as ConnectorSpec | undefined;
  if (!spec) throw new JunctionError('CFG_UNKNOWN_KIND', `unknown connector type ${config.type}`, { where: { source } });
  if (config.enabled === false) {
    throw new JunctionError('CONN_SOURCE_DISABLED', `source ${source} is disabled in config`, { where: { source } });
  }
  if (!spec.create) throw new JunctionError('CFG_UNKNOWN_KIND', `connector type ${config.type} has no implementation yet`, { where: { source } });
  return spec.create(source, config as never, ctx);
}
