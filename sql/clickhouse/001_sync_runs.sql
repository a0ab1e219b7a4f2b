-- Sync runs for analysts (sync freshness per stream). Runs are re-sent as they progress, so
-- the table keeps versions and the view shows each run once, in its latest state.
-- Written for the Debian 18.16 server and current ClickHouse alike: no DateTime64, no
-- is_deleted, plain ReplacingMergeTree(version).
CREATE TABLE IF NOT EXISTS sync_runs (
  run_id          UInt64,
  source          String,
  stream          String,
  mode            String,
  status          String,
  started_at      DateTime,
  finished_at     DateTime,
  records_read    UInt64,
  records_written UInt64,
  records_failed  UInt64,
  error_code      String,
  version         UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (source, stream, run_id);

CREATE VIEW IF NOT EXISTS sync_runs_current AS
SELECT
  run_id,
  source,
  stream,
  argMax(mode, version)            AS mode,
  argMax(status, version)          AS status,
  argMax(started_at, version)      AS started_at,
  argMax(finished_at, version)     AS finished_at,
  argMax(records_read, version)    AS records_read,
  argMax(records_written, version) AS records_written,
  argMax(records_failed, version)  AS records_failed,
  argMax(error_code, version)      AS error_code
FROM sync_runs
GROUP BY run_id, source, stream;
