-- Sync freshness per stream: when each stream last finished a successful sync, how many
-- seconds ago that was, and how its latest run went. A stream that never succeeded shows
-- NULL times. Runs are counted once each (sync_runs_current). Dead-letter replays
-- (trigger 'replay') are not syncs: they load stored letters, not the source, so they
-- are left out of every figure here (runs sent before migration 003 have trigger '' until
-- `junction analytics repair` re-sends them with theirs). Nor is a backfill a sign of
-- freshness (it reads a range of old dates): it counts as a run, not as the last success.
SELECT
  source,
  stream,
  nullIf(maxIf(finished_at, status = 'succeeded' AND mode != 'backfill'), toDateTime(0)) AS last_success_at,
  toInt64(now()) - toInt64(last_success_at)                        AS age_seconds,
  argMax(status, run_id)                                           AS last_status,
  argMax(error_code, run_id)                                       AS last_error_code,
  count()                                                          AS runs,
  countIf(status = 'failed')                                       AS failed_runs
FROM sync_runs_current
WHERE trigger != 'replay'
GROUP BY source, stream
ORDER BY source, stream;
