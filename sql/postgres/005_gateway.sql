-- The chat gateway: agents, conversations, messages and delivery receipts.
-- Writers: gateway/store/* only. Messages are appended by group commit
-- (gateway/store/append.ts): per batch, the conversation rows are locked in id order, the
-- batch's seqs are taken from conversation.last_seq, and every row goes in with one INSERT.
CREATE SCHEMA IF NOT EXISTS gateway;

CREATE TABLE gateway.agent (
  id            bigserial   PRIMARY KEY,
  email         text        NOT NULL,
  name          text        NOT NULL,
  team          text        NOT NULL,
  -- PHC string ($scrypt$…); the prefix names the algorithm so a later one can coexist.
  password_hash text        NOT NULL,
  disabled_at   timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are stored lower-cased by the writer; one agent per address.
CREATE UNIQUE INDEX agent_email_uq ON gateway.agent (email);

-- A conversation between one visitor and the agents of a team. `assigned_agent_id` null
-- with status open means queued for `team`. `customer_id` links it to the unified view
-- (no foreign key: the unified schema has its own writer and absorbed customers keep their row).
CREATE TABLE gateway.conversation (
  id                    bigserial   PRIMARY KEY,
  visitor_id            text        NOT NULL,
  team                  text        NOT NULL,
  assigned_agent_id     bigint      REFERENCES gateway.agent (id),
  customer_id           bigint,
  -- The signed identity the visitor came with ({email, phone, external_id}, normalized).
  identity              jsonb,
  -- What the site said about the visitor's page (url, language…): input of routing rules.
  meta                  jsonb       NOT NULL DEFAULT '{}',
  status                text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  last_seq              bigint      NOT NULL DEFAULT 0,
  -- The clientMsgId of the message that opened it: a resent first message finds this
  -- conversation again instead of opening a second one.
  opening_client_msg_id text        NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  closed_at             timestamptz,
  closed_by             text
);
CREATE UNIQUE INDEX conversation_opening_uq ON gateway.conversation (visitor_id, opening_client_msg_id);
CREATE INDEX conversation_visitor_open_idx ON gateway.conversation (visitor_id) WHERE status = 'open';
CREATE INDEX conversation_agent_open_idx ON gateway.conversation (assigned_agent_id) WHERE status = 'open';
CREATE INDEX conversation_queue_idx ON gateway.conversation (team, id) WHERE status = 'open' AND assigned_agent_id IS NULL;
CREATE INDEX conversation_customer_idx ON gateway.conversation (customer_id) WHERE customer_id IS NOT NULL;

-- One chat message. `seq` is dense per conversation (1, 2, 3…), allocated in the
-- transaction that stores the message. `sender_id` is 'visitor:<uuid>' or 'agent:<id>'.
-- No foreign key on conversation_id: the appender locks the conversation row it takes the
-- seq from in the same transaction, so the per-row check would only cost (hot path).
CREATE TABLE gateway.message (
  conversation_id bigint      NOT NULL,
  seq             bigint      NOT NULL,
  sender_kind     text        NOT NULL CHECK (sender_kind IN ('visitor', 'agent', 'system')),
  sender_id       text        NOT NULL,
  client_msg_id   text        NOT NULL,
  text            text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, seq)
);
-- A resent clientMsgId finds its original row (and its seq) instead of storing a copy.
CREATE UNIQUE INDEX message_client_uq ON gateway.message (conversation_id, sender_id, client_msg_id);

-- How far each participant got: acked (received) and read, by seq. A reconnecting client
-- that names no resume point for a conversation resumes after its acked seq.
CREATE TABLE gateway.receipt (
  conversation_id bigint      NOT NULL REFERENCES gateway.conversation (id),
  reader_id       text        NOT NULL,
  acked_seq       bigint      NOT NULL DEFAULT 0,
  read_seq        bigint      NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, reader_id)
);
