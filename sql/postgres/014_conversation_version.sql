-- A conversation's version, raised under the row lock by every change of how it stands
-- (open or closed), who holds it (team, agent) or whom it is about (customer). Gateway
-- instances publish their changes after committing, so two changes published from two
-- instances can arrive in either order: a socket keeps the highest version it has seen and
-- ignores an event older than that, instead of applying a state that is no longer true.
-- Appending messages (last_seq) does not raise it.
ALTER TABLE gateway.conversation ADD COLUMN version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION gateway.conversation_version() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
  NEW.version := OLD.version + 1;
  RETURN NEW;
END
$fn$;

CREATE TRIGGER conversation_version BEFORE UPDATE ON gateway.conversation
  FOR EACH ROW
  WHEN ((OLD.status, OLD.team, OLD.assigned_agent_id, OLD.customer_id) IS DISTINCT FROM (NEW.status, NEW.team, NEW.assigned_agent_id, NEW.customer_id))
  EXECUTE FUNCTION gateway.conversation_version();
