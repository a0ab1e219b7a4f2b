-- The scheduler looks for abandoned runs (012) every 30 s among the runs still `running`:
-- a handful, in a table that gains a row per sync and per skipped tick and is never pruned.
CREATE INDEX sync_run_running_idx ON hub.sync_run (id) WHERE status = 'running';
