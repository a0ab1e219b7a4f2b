-- Fencing for the one-job-per-stream rule. A worker that takes a stream's Redis lock then
-- takes the next fence number here (durable, unlike a Redis counter); each batch it commits
-- first reads the row FOR SHARE and rolls back unless the number is still its own. A worker
-- that stalled past its lock's expiry (a long GC pause, a frozen VM) therefore cannot commit
-- a batch or end its run once another worker has taken the stream, however the stall falls
-- around its last look at Redis; and a newer taker waits for an older one's open batch.
CREATE TABLE hub.stream_fence (
  source     text        NOT NULL,
  stream     text        NOT NULL,
  fence      bigint      NOT NULL,
  taken_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, stream)
);
