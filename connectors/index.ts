/**
 * The connector registry: one line per kind. Adding a kind touches its file, this list
 * and its test (the sources' discriminated union and the JSON Schema follow from here).
 */
import { spec as soap } from './soap.js';
import { spec as rest } from './rest.js';
import { spec as postgres } from './postgres.js';
import { spec as mongo } from './mongo.js';
import { spec as oracle } from './oracle.js';

/** Every connector spec, in the order the docs list them. */
export const connectorSpecs = [soap, rest, postgres, mongo, oracle] as const;

/** A connector kind: the `type:` of a source. */
export type ConnectorKind = (typeof connectorSpecs)[number]['type'];
