/**
 * The per-source circuits as ops see them (pipelines/circuit.ts keeps them in Redis), and
 * their Prometheus encoding.
 */
import type { CircuitState } from '../pipelines/circuit.js';

export { listCircuits, readCircuit, type CircuitState, type CircuitStatus } from '../pipelines/circuit.js';

/** Prometheus value of a state: 0 closed, 1 half-open, 2 open. */
export const CIRCUIT_GAUGE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };
