-- A run's process bumps heartbeat_at while the run is running (every few seconds, and with
-- each committed batch). A run left `running` by a process that was killed (an --inline
-- sync or a replay, or a worker that died before its job knew the run's id) has no one to
-- finish it; the scheduler marks one that has not beaten for a while `failed`
-- (SYNC_RUN_ABANDONED). Runs from before this column are judged by started_at.
ALTER TABLE hub.sync_run ADD COLUMN heartbeat_at timestamptz;
