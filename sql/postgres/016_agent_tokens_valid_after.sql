-- Revoking an agent's tokens: a token whose login (the `login` claim, kept by refreshes) is
-- older than tokens_valid_after is refused everywhere (REST, upgrade, refresh, renewal on an
-- open socket). `junction agents passwd` and `agents disable` set it, so a changed password
-- or a re-enabled agent does not bring old tokens back.
ALTER TABLE gateway.agent ADD COLUMN tokens_valid_after timestamptz;
