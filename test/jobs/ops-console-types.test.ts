/**
 * The ops console writes the ops API's JSON types out (gateway/web/src/ops/api-types.ts: the
 * web build cannot type-check the server's module graph). This file makes `tsc` (npm run
 * verify) fail when the two drift apart; the test itself only reports what tsc checked.
 */
import { describe, expect, it } from 'vitest';
import type * as Web from '../../gateway/web/src/ops/api-types.js';
import { RUN_STATUSES as WEB_RUN_STATUSES } from '../../gateway/web/src/ops/api-types.js';
import type { DeadLetterView } from '../../jobs/dead-letters.js';
import { RUN_STATUSES, type RunView } from '../../jobs/runs.js';
import type { TickStatus } from '../../jobs/schedule-state.js';
import type { ScheduleView } from '../../jobs/schedules.js';
import type { SourceStatus, StreamStatus } from '../../jobs/streams-status.js';
import type { CircuitStatus } from '../../pipelines/circuit.js';
import type { ReplaySummary } from '../../pipelines/replay.js';

/** True only when A and B are assignable both ways. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const sameTypes: [
  Same<Web.RunView, RunView>,
  Same<Web.StreamStatus, StreamStatus>,
  Same<Web.SourceStatus, SourceStatus>,
  Same<Web.CircuitStatus, CircuitStatus>,
  Same<Web.ScheduleView, ScheduleView>,
  Same<Web.TickStatus, TickStatus>,
  Same<Web.DeadLetterView, DeadLetterView>,
  Same<Web.ReplaySummary, ReplaySummary>,
] = [true, true, true, true, true, true, true, true];

describe('ops console API types', () => {
  it('match the server types (checked by tsc) and the run statuses match', () => {
    expect(sameTypes.every(Boolean)).toBe(true);
    expect([...WEB_RUN_STATUSES]).toEqual([...RUN_STATUSES]);
  });
});
