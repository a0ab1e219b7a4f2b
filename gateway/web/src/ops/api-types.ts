/**
 * The JSON the ops API answers (jobs/ops-api.ts). Written out here rather than imported:
 * the web build must not pull server modules in. Field for field as jobs/runs.ts,
 * jobs/streams-status.ts, jobs/schedules.ts, jobs/dead-letters.ts and pipelines/replay.ts
 * declare them; test/jobs/ops-console-types.test.ts makes tsc fail when they drift.
 */

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Runs that are not over yet: the list polls fast while one is shown. */
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running'];

export interface RunView {
  id: number;
  source: string;
  stream: string;
  mode: string;
  status: RunStatus;
  trigger: string;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  recordsRead: number;
  recordsWritten: number;
  recordsFailed: number;
  errorCode: string | null;
  errorMessage: string | null;
}

export type CircuitState = 'closed' | 'half_open' | 'open';

export interface CircuitStatus {
  source: string;
  state: CircuitState;
  failures: number;
  code: string | null;
  reason: string | null;
  openedAt: string | null;
  nextProbeAt: string | null;
}

export interface StreamStatus {
  stream: string;
  checkpoint: { cursor: unknown; key: string | null } | null;
  checkpointAt: string | null;
  recordsTotal: number;
  lag: { cursorSeconds: number | null; sinceSuccessSeconds: number | null };
  lastRun: RunView | null;
  lastSuccessAt: string | null;
  deadLetters: { pending: number; total: number };
  clickhousePending: number;
}

export interface SourceStatus {
  name: string;
  type: string;
  enabled: boolean;
  /** Null when Redis could not be read; `circuitError` says why. */
  circuit: CircuitStatus | null;
  circuitError: string | null;
  streams: StreamStatus[];
}

export type TickStatus = 'claimed' | 'enqueued' | 'skipped' | 'paused' | 'failed';

export interface ScheduleView {
  name: string;
  /** `source.stream` */
  sync: string;
  mode: 'incremental' | 'full';
  cron: string;
  timezone: string;
  enabled: boolean;
  paused: boolean;
  pausedAt: string | null;
  pausedBy: string | null;
  nextRun: string | null;
  lastTick: { at: string; status: TickStatus; jobId: string | null; jobState: string | null; reason: string | null } | null;
  lastRun: RunView | null;
}

export interface DeadLetterView {
  id: number;
  runId: number | null;
  source: string;
  stream: string;
  sourceKey: string | null;
  stage: string;
  errorCode: string;
  errorMessage: string;
  mappingVersion: string | null;
  createdAt: string;
  replayedAt: string | null;
  replayRunId: number | null;
  /** Only on a single letter (GET dead-letters/:id). */
  payload?: unknown;
}

export interface ReplayStreamSummary {
  source: string;
  stream: string;
  runId: number;
  selected: number;
  loaded: number;
  failedAgain: number;
  superseded: number;
  /** Letters superseded by a newer letter of their record (`by`), replayed in their place. */
  replacedBy?: { id: number; by: number }[];
  error?: { code: string; message: string };
  /** The first failed ClickHouse send; the letters were replayed in PostgreSQL all the same. */
  clickhouse?: { code: string; message: string };
}

export interface ReplaySummary {
  selected: number;
  loaded: number;
  failedAgain: number;
  superseded: number;
  streams: ReplayStreamSummary[];
}

/** POST syncs and POST schedules/:name/run. */
export interface Enqueued {
  jobId: string;
  data: { source: string; stream: string; mode: string; trigger: string };
}

/** POST schedules/:name/pause | resume. */
export interface PauseResult {
  name: string;
  paused: boolean;
  pausedAt: string | null;
  pausedBy: string | null;
}

/** A page of a list newest first; `next` is the `before` of the following page. */
export type Page<K extends string, T> = { [key in K]: T[] } & { next: number | null };
