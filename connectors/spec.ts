/**
 * The shape every connector file exports as `spec`: its `type:`, a one-line summary, the
 * strict zod schema of one source of that kind, and examples (validated by a test and used
 * for the generated connector reference).
 */
import type * as z from 'zod';

export interface ConnectorSpec<K extends string = string, C extends z.ZodType = z.ZodType> {
  /** The `type:` value that selects this kind in `sources.<name>`. */
  readonly type: K;
  /** One line for `--help` and the connector reference. */
  readonly summary: string;
  /** A `z.strictObject` with `type: z.literal(K)`: one member of the sources' discriminated union. */
  readonly config: C;
  /** Example source configs (input form, as written in YAML). */
  readonly examples: readonly unknown[];
}
