-- Revocation by epoch rather than by time (016's tokens_valid_after stays, as when it
-- happened): an agent token carries the agent's token_epoch at login, refreshes keep it, and
-- `junction agents passwd` and `agents disable` raise it. A token of another epoch is refused.
-- Times could not tell a login in the same second as the revocation, nor one that read the
-- old password hash just before `passwd` committed; the epoch is read with the hash.
ALTER TABLE gateway.agent ADD COLUMN token_epoch integer NOT NULL DEFAULT 0;
