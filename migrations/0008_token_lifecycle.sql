-- Version 8: token lifecycle (issue 17) — expiry of SAYMON API tokens, read-only scope,
-- last use, who minted a login token and from which client, PAT rotation with overlap,
-- and the "expires soon" e-mail.

-- Rocket.Chat credentials. `scope` is 'full' or 'read-only' (PATs only may be read-only).
-- `last_used_at`/`last_used_addr` are written at most once a minute per token (coalesced).
-- `user_agent` is the client that logged in; `created_by_id`/`created_by` name who minted a
-- login token (the owner at login, an administrator through users.createToken, 'cli').
-- `replaced_name` is set on a regenerated PAT's old value while its grace period runs.
-- `expiry_warned` is 1 once the owner was mailed that the PAT expires soon.
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'read-only'));
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE tokens ADD COLUMN last_used_addr TEXT;
ALTER TABLE tokens ADD COLUMN user_agent TEXT;
ALTER TABLE tokens ADD COLUMN created_by_id TEXT;
ALTER TABLE tokens ADD COLUMN created_by TEXT;
ALTER TABLE tokens ADD COLUMN replaced_name TEXT;
ALTER TABLE tokens ADD COLUMN expiry_warned INTEGER NOT NULL DEFAULT 0;

ALTER TABLE saymon_tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE saymon_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'read-only'));
ALTER TABLE saymon_tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE saymon_tokens ADD COLUMN last_used_addr TEXT;

ALTER TABLE saymon_sessions ADD COLUMN user_agent TEXT;
ALTER TABLE saymon_sessions ADD COLUMN last_used_at INTEGER;
ALTER TABLE saymon_sessions ADD COLUMN last_used_addr TEXT;

-- A token's scope is part of what a cached entry holds.
DROP TRIGGER invalidate_changed_token;
CREATE TRIGGER invalidate_changed_token AFTER UPDATE OF user_id, expires_at, bypass_2fa, scope ON tokens
BEGIN
    INSERT INTO cache_invalidations (token_hash, at) VALUES (OLD.token_hash, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
