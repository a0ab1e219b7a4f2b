-- What started each run (hub.sync_run.trigger: cli, ops, schedule:<name>, demo, replay), so
-- the freshness query can leave dead-letter replays out: a replay loads stored letters, not
-- the source, and a stream whose source is down must not look fresh after one. Runs sent
-- before this migration have trigger '' (replays among them: the rows never said).
--
-- Written for the Debian 18.16 server and current ClickHouse alike. 18.16 has no
-- ADD COLUMN IF NOT EXISTS, CREATE OR REPLACE VIEW or DROP VIEW (a view is dropped with
-- DROP TABLE, as current servers also allow). So the ALTER comes first and is the one
-- statement that cannot run twice: were a later one to fail, a rerun would stop at it
-- ("column with this name already exists"); drop the column
-- (ALTER TABLE sync_runs DROP COLUMN trigger) and run `junction migrate` again.
ALTER TABLE sync_runs ADD COLUMN trigger String DEFAULT '' AFTER mode;

DROP TABLE IF EXISTS sync_runs_current;

CREATE VIEW IF NOT EXISTS sync_runs_current AS
SELECT
  run_id,
  source,
  stream,
  argMax(mode, version)            AS mode,
  argMax(trigger, version)         AS trigger,
  argMax(status, version)          AS status,
  argMax(started_at, version)      AS started_at,
  argMax(finished_at, version)     AS finished_at,
  argMax(records_read, version)    AS records_read,
  argMax(records_written, version) AS records_written,
  argMax(records_failed, version)  AS records_failed,
  argMax(error_code, version)      AS error_code
FROM sync_runs
GROUP BY run_id, source, stream;
