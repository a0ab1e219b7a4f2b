/** The `gateway:` config section as the gateway reads it (readonly, defaults applied). */
import type { DeepReadonly } from '../config/load.js';
import type { GatewayConfig } from '../config/schema.js';

export type GatewaySettings = DeepReadonly<GatewayConfig>;
