-- Hub bookkeeping shared by every pipeline: where each stream stopped, what ran, what failed.
CREATE SCHEMA IF NOT EXISTS hub;

-- The compound cursor (cursor value, key) after the last committed batch of a stream.
-- Written in the same transaction as the batch's data.
CREATE TABLE hub.checkpoint (
  source        text        NOT NULL,
  stream        text        NOT NULL,
  cursor_value  jsonb,
  cursor_key    text,
  records_total bigint      NOT NULL DEFAULT 0,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, stream)
);

CREATE TABLE hub.sync_run (
  id              bigserial   PRIMARY KEY,
  source          text        NOT NULL,
  stream          text        NOT NULL,
  mode            text        NOT NULL CHECK (mode IN ('incremental', 'full', 'backfill')),
  status          text        NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped')),
  trigger         text        NOT NULL DEFAULT 'cli',
  queued_at       timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz,
  records_read    bigint      NOT NULL DEFAULT 0,
  records_written bigint      NOT NULL DEFAULT 0,
  records_failed  bigint      NOT NULL DEFAULT 0,
  error_code      text,
  error_message   text
);
CREATE INDEX sync_run_stream_idx ON hub.sync_run (source, stream, id DESC);

-- A record that failed a stage; the batch went on without it. `payload` is the raw source
-- record so that a replay can run it through the current mapping.
CREATE TABLE hub.dead_letter (
  id              bigserial   PRIMARY KEY,
  run_id          bigint      REFERENCES hub.sync_run (id) ON DELETE SET NULL,
  source          text        NOT NULL,
  stream          text        NOT NULL,
  source_key      text,
  stage           text        NOT NULL CHECK (stage IN ('extract', 'map', 'resolve', 'load')),
  error_code      text        NOT NULL,
  error_message   text        NOT NULL,
  mapping_version text,
  payload         jsonb       NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  replayed_at     timestamptz,
  replay_run_id   bigint
);
CREATE INDEX dead_letter_stream_idx ON hub.dead_letter (source, stream, created_at);
