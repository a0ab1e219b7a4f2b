-- Schedules (jobs/): whether ops paused a schedule, and what each scheduler tick did.

-- Pause state of a schedule, by its config name. Kept here, not in the config, so that a
-- pause survives scheduler restarts and holds for every scheduler process at once.
CREATE TABLE hub.schedule_state (
  name       text        PRIMARY KEY,
  paused     boolean     NOT NULL DEFAULT false,
  paused_at  timestamptz,
  paused_by  text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per (schedule, tick minute): the first scheduler to insert it owns the tick
-- (INSERT … ON CONFLICT DO NOTHING), so two scheduler processes never enqueue one tick twice,
-- even after the first one's job completed and left the queue.
CREATE TABLE hub.schedule_tick (
  schedule   text        NOT NULL,
  tick       timestamptz NOT NULL,
  status     text        NOT NULL CHECK (status IN ('claimed', 'enqueued', 'skipped', 'paused', 'failed')),
  job_id     text,
  -- the skipped run recorded in hub.sync_run (status 'skipped')
  run_id     bigint      REFERENCES hub.sync_run (id) ON DELETE SET NULL,
  reason     text,
  -- host:pid of the scheduler that claimed the tick
  scheduler  text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schedule, tick)
);

-- Runs by trigger (`schedule:<name>`), for the schedules' last run.
CREATE INDEX sync_run_trigger_idx ON hub.sync_run (trigger, id DESC);
