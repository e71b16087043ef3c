-- Version 6: targeted cache invalidation (issue 14).

-- What the in-memory token caches must forget, written by the store itself: triggers on every
-- table a cached entry is drawn from, so no writer (a handler, `tokend admin`, another node)
-- can change a credential, a user or a role without telling the caches. A row names a token
-- (logout, removal, the cap), a user (their record, roles, grants, second factors or API
-- token changed), or neither (a role's permissions changed: forget everything). Each process
-- reads the rows after its own commits and polls for other writers'; old rows are purged.
-- Times use julianday(), not the newer sub-second epoch function: every SQLite a writer may bring (the
-- sqlite3 shell of an older distribution) must be able to fire these triggers.
CREATE TABLE cache_invalidations (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB,
    user_id    TEXT,
    at         INTEGER NOT NULL
) STRICT;

CREATE INDEX cache_invalidations_by_time ON cache_invalidations(at);

-- A token that is deleted before it expires (an expired one is refused at lookup anyway, so
-- the periodic purge invalidates nothing).
CREATE TRIGGER invalidate_deleted_token AFTER DELETE ON tokens
WHEN OLD.expires_at IS NULL OR OLD.expires_at > CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
BEGIN
    INSERT INTO cache_invalidations (token_hash, at) VALUES (OLD.token_hash, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- A token whose facts a cached entry holds changed (an operator shortening its life).
CREATE TRIGGER invalidate_changed_token AFTER UPDATE OF user_id, expires_at, bypass_2fa ON tokens
BEGIN
    INSERT INTO cache_invalidations (token_hash, at) VALUES (OLD.token_hash, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- Anything a cached user record or rendered document shows (not `last_login`, which every
-- login writes and nothing cached shows).
CREATE TRIGGER invalidate_changed_user AFTER UPDATE OF username, name, email, email_verified, password_hash,
    active, user_type, require_password_change, nickname, bio, status_text, created_at ON users
BEGIN
    INSERT INTO cache_invalidations (user_id, at) VALUES (NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER invalidate_deleted_user AFTER DELETE ON users
BEGIN
    INSERT INTO cache_invalidations (user_id, at) VALUES (OLD.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER invalidate_added_role AFTER INSERT ON user_roles
BEGIN
    INSERT INTO cache_invalidations (user_id, at) VALUES (NEW.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER invalidate_removed_role AFTER DELETE ON user_roles
BEGIN
    INSERT INTO cache_invalidations (user_id, at) VALUES (OLD.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER invalidate_added_grant AFTER INSERT ON user_permissions
BEGIN
    INSERT INTO cache_invalidations (user_id, at) VALUES (NEW.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER invalidate_removed_grant AFTER DELETE ON user_permissions
BEGIN
    INSERT INTO cache_invalidations (user_id, at) VALUES (OLD.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER invalidate_added_role_permission AFTER INSERT ON permission_roles
BEGIN
    INSERT INTO cache_invalidations (at) VALUES (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER invalidate_removed_role_permission AFTER DELETE ON permission_roles
BEGIN
    INSERT INTO cache_invalidations (at) VALUES (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER invalidate_changed_totp AFTER UPDATE OF enabled ON totp
BEGIN
    INSERT INTO cache_invalidations (user_id, at) VALUES (NEW.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER invalidate_deleted_totp AFTER DELETE ON totp
BEGIN
    INSERT INTO cache_invalidations (user_id, at) VALUES (OLD.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER invalidate_added_email_2fa AFTER INSERT ON email_2fa
BEGIN
    INSERT INTO cache_invalidations (user_id, at) VALUES (NEW.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER invalidate_changed_email_2fa AFTER UPDATE OF enabled ON email_2fa
BEGIN
    INSERT INTO cache_invalidations (user_id, at) VALUES (NEW.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER invalidate_replaced_api_token AFTER DELETE ON saymon_tokens
BEGIN
    INSERT INTO cache_invalidations (user_id, at) VALUES (OLD.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
