/**
 * The sync-run half of `junction analytics repair`. Runs ClickHouse still shows running (or
 * queued) that `hub.sync_run` has ended: their final row was lost (ClickHouse away at that one
 * send, or the process killed just after it ended the run), so `sync_runs_current` showed them
 * running for ever and sync_freshness.sql missed their success; they are sent again as the hub
 * holds them ({@link repairRunEnds}; the stream's next run does the same for its latest runs,
 * sync-runs.ts `sendUnreportedRuns`). And runs sent to ClickHouse `sync_runs` before
 * migration 003 (sql/clickhouse/003_sync_runs_trigger.sql) carry `trigger = ''`, so dead-letter
 * replays among them still count as a stream's last success in
 * sql/clickhouse/queries/sync_freshness.sql. `hub.sync_run` knows every run's trigger: those
 * runs are sent again as it holds them ({@link sendRunStates}).
 *
 * Only runs whose latest version is below the repair's horizon are looked at, so the re-sent
 * row (versioned by the PostgreSQL clock now, read before the run is) outranks every row the
 * run has: including rows versioned by the sending worker's own clock, as runs were before
 * 2026-11-23, once that clock has been passed. A run sent later by a worker carries a later
 * version and wins, as it should: it is newer.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { ENDED_STATUSES, sendRunStates } from './sync-runs.js';

/** What the repair did about runs with no trigger in ClickHouse. */
export interface RunRepairCounts {
  /** Runs sent again from `hub.sync_run`, with their trigger. */
  resent: number;
  /**
   * Runs left alone: `hub.sync_run` has no run of that id and stream (deleted, or a hub
   * database that was replaced under the same ClickHouse), or no trigger for it either.
   */
  missing: number;
}

/**
 * Re-sends, from `hub.sync_run`, the runs ClickHouse shows with trigger `''` whose latest
 * version is in `[since, horizon)` (PostgreSQL clock, microseconds, checked by the caller).
 */
export async function repairRunTriggers(pool: pg.Pool, client: ClickHouseClient, since: number, horizon: number): Promise<RunRepairCounts> {
  const result = await client.query({
    // 18.16 has no query parameters; both bounds are integers.
    query: `SELECT toString(run_id) AS run_id, source, stream FROM sync_runs GROUP BY run_id, source, stream
             HAVING argMax(trigger, version) = '' AND max(version) >= ${since} AND max(version) < ${horizon}`,
    format: 'JSONEachRow',
  });
  const runs = await result.json<{ run_id: string; source: string; stream: string }>();
  if (runs.length === 0) return { resent: 0, missing: 0 };
  // The same id in another stream is another run (run ids restart with a new hub database).
  const { rows: known } = await pool.query<{ id: string }>(
    `SELECT r.id::text AS id FROM unnest($1::int8[], $2::text[], $3::text[]) AS x(id, source, stream)
       JOIN hub.sync_run r ON r.id = x.id AND r.source = x.source AND r.stream = x.stream
      WHERE r.trigger <> ''`,
    [runs.map((r) => r.run_id), runs.map((r) => r.source), runs.map((r) => r.stream)],
  );
  const resent = await sendRunStates(client, pool, known.map((r) => Number(r.id)));
  return { resent, missing: runs.length - resent };
}

/** Runs checked against `hub.sync_run` (and re-sent) at a time. */
const RUN_PAGE = 1_000;

/**
 * Re-sends, from `hub.sync_run`, the runs ClickHouse shows `running` or `queued` (latest
 * version in `[since, horizon)`) that the hub has ended; returns how many. Only stuck runs
 * come back from ClickHouse; they are checked and sent {@link RUN_PAGE} at a time. A run the
 * hub has under another stream, or not at all, is left alone. Safe while runs go on: a
 * re-sent row is versioned before the hub row is read, so a later state wins.
 */
export async function repairRunEnds(pool: pg.Pool, client: ClickHouseClient, since: number, horizon: number): Promise<number> {
  const result = await client.query({
    // 18.16 has no query parameters; both bounds are integers.
    query: `SELECT toString(run_id) AS run_id, source, stream FROM sync_runs GROUP BY run_id, source, stream
             HAVING argMax(status, version) IN ('running', 'queued') AND max(version) >= ${since} AND max(version) < ${horizon}
             ORDER BY run_id`,
    format: 'JSONEachRow',
  });
  const runs = await result.json<{ run_id: string; source: string; stream: string }>();
  let resent = 0;
  for (let i = 0; i < runs.length; i += RUN_PAGE) {
    const page = runs.slice(i, i + RUN_PAGE);
    const { rows: ended } = await pool.query<{ id: string }>(
      `SELECT r.id::text AS id FROM unnest($1::int8[], $2::text[], $3::text[]) AS x(id, source, stream)
         JOIN hub.sync_run r ON r.id = x.id AND r.source = x.source AND r.stream = x.stream
        WHERE r.status = ANY($4::text[])`,
      [page.map((r) => r.run_id), page.map((r) => r.source), page.map((r) => r.stream), ENDED_STATUSES],
    );
    resent += await sendRunStates(client, pool, ended.map((r) => Number(r.id)));
  }
  return resent;
}
