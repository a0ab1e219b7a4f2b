-- Routing, capacity and reassignment of chat conversations (gateway/assign.ts,
-- gateway/reassign.ts), and the times the ClickHouse `conversations` table reports.
-- Writers: gateway/store/* only.

-- Open conversations an agent may hold at once; null: `gateway.agent_capacity` from config.
ALTER TABLE gateway.agent ADD COLUMN capacity integer CHECK (capacity IS NULL OR capacity >= 0);

-- `assigned_at`: when the current agent got it (null while queued).
-- `first_response_at`: the first agent message (set by the message append, once).
-- `reopened_at` / `reopen_count`: a visitor's message on a recently closed conversation
-- reopens it (same id, seqs go on) rather than opening a second one.
ALTER TABLE gateway.conversation
  ADD COLUMN assigned_at       timestamptz,
  ADD COLUMN first_response_at timestamptz,
  ADD COLUMN reopened_at       timestamptz,
  ADD COLUMN reopen_count      integer NOT NULL DEFAULT 0;

UPDATE gateway.conversation SET assigned_at = created_at WHERE assigned_agent_id IS NOT NULL;

-- A visitor's most recent closed conversation (the one a message may reopen).
CREATE INDEX conversation_visitor_closed_idx ON gateway.conversation (visitor_id, closed_at DESC) WHERE status = 'closed';
