-- What each committed batch must send to ClickHouse (pipelines/sinks/clickhouse-outbox.ts).
-- A batch writes its row here in its own transaction and the rows are read and sent after
-- COMMIT, outside the batch's resolution locks; the row goes once ClickHouse has them. A row
-- left behind by a crash is sent by the stream's next run (or the retry of this one).
CREATE TABLE hub.clickhouse_outbox (
  id         bigserial   PRIMARY KEY,
  source     text        NOT NULL,
  stream     text        NOT NULL,
  -- the run whose batch wrote it (null for writes outside a run)
  run_id     bigint,
  -- what to read and send: {orders, tickets: {source[], stream[], key[]}, ownersOf[], customerIds[]}
  selection  jsonb       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX clickhouse_outbox_stream_idx ON hub.clickhouse_outbox (source, stream, id);
