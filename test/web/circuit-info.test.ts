/**
 * The ops console's circuit display (gateway/web/src/ops/circuit-info.tsx on the source card,
 * stream-health.tsx on each stream row) when Redis could not be read: the API gives
 * `circuit: null` with `circuitError` (jobs/streams-status.ts). The card says the circuit is
 * unknown and why; a stream row does not claim its syncs wait for a probe.
 */
import { createElement, type FunctionComponent } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SourceStatus } from '../../jobs/streams-status.js';

// Computed specifiers: the root tsconfig (no DOM, no JSX) must not follow them into gateway/web.
const CIRCUIT_MODULE = '../../gateway/web/src/ops/circuit-info.js';
const HEALTH_MODULE = '../../gateway/web/src/ops/stream-health.js';

type Circuit = SourceStatus['circuit'];
let CircuitInfo: FunctionComponent<{ circuit: Circuit; error: string | null }>;
let StreamHealth: FunctionComponent<{ run: null; circuit: NonNullable<Circuit>['state'] | null; enabled: boolean }>;

beforeAll(async () => {
  ({ CircuitInfo } = (await import(/* @vite-ignore */ CIRCUIT_MODULE)) as { CircuitInfo: typeof CircuitInfo });
  ({ StreamHealth } = (await import(/* @vite-ignore */ HEALTH_MODULE)) as { StreamHealth: typeof StreamHealth });
});

const textOf = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
const circuitText = (circuit: Circuit, error: string | null) => textOf(renderToStaticMarkup(createElement(CircuitInfo, { circuit, error })));
const healthText = (circuit: NonNullable<Circuit>['state'] | null) => textOf(renderToStaticMarkup(createElement(StreamHealth, { run: null, circuit, enabled: true })));

describe('the ops console circuit display', () => {
  it('with the circuits unreadable says the circuit is unknown and why; the stream row makes no claim', () => {
    expect(circuitText(null, 'circuits unknown: redis did not answer within 2000 ms')).toBe('circuit unknown circuits unknown: redis did not answer within 2000 ms');
    expect(healthText(null)).toBe('never run');
  });

  it('with an open circuit says why on the source and that the stream waits for a probe', () => {
    const open = { source: 'shop_pg', state: 'open' as const, failures: 3, code: 'CONN_UNREACHABLE', reason: 'connection refused', openedAt: null, nextProbeAt: null };
    expect(circuitText(open, null)).toBe('circuit open after 3 failures CONN_UNREACHABLE connection refused');
    expect(healthText('open')).toBe('never run circuit open: syncs wait for a probe');
    expect(healthText('closed')).toBe('never run');
  });
});
