/**
 * The shape every connector file exports as `spec`: its `type:`, a one-line summary, the
 * strict zod schema of one source of that kind, and examples (validated by a test and used
 * for the generated connector reference).
 */
import type * as z from 'zod';
import type { Logger } from '../config/log.js';
import type { SharedRateLimit } from './rest/limiter.js';
import type { Connector } from './types.js';

/** What a connector factory receives besides its own config. */
export interface ConnectorContext {
  /** Child logger for this source (secrets already masked). */
  log: Logger;
  /**
   * Where the source's `rate_limit` is counted across processes (sync workers pass one);
   * without it the limit holds per connector instance (`junction read`, previews).
   */
  rateLimit?: SharedRateLimit;
}

/** Builds a connector for one source. Opening connections may be lazy (first use). */
export type ConnectorFactory<C extends z.ZodType> = (source: string, config: z.output<C>, ctx: ConnectorContext) => Connector;

export interface ConnectorSpec<K extends string = string, C extends z.ZodType = z.ZodType> {
  /** The `type:` value that selects this kind in `sources.<name>`. */
  readonly type: K;
  /** One line for `--help` and the connector reference. */
  readonly summary: string;
  /** A `z.strictObject` with `type: z.literal(K)`: one member of the sources' discriminated union. */
  readonly config: C;
  /** Behaviour worth knowing that is not an option (limits, refusals), one sentence each. */
  readonly notes?: readonly string[];
  /** Example source configs (input form, as written in YAML). */
  readonly examples: readonly unknown[];
  /**
   * The factory. Optional only while a kind is being built; `createConnector` reports a kind
   * without one as not implemented.
   */
  readonly create?: ConnectorFactory<C>;
}
