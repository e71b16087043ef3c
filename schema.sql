-- The whole current tokend schema. A new database file gets exactly this, then
-- `PRAGMA user_version` is set to the latest migration number. Existing files are
-- upgraded by the numbered files in migrations/; a test proves both paths agree.

CREATE TABLE users (
    id                      TEXT PRIMARY KEY,              -- 17 chars, Rocket.Chat alphabet
    username                TEXT NOT NULL COLLATE NOCASE UNIQUE,
    name                    TEXT NOT NULL DEFAULT '',
    email                   TEXT COLLATE NOCASE UNIQUE,
    email_verified          INTEGER NOT NULL DEFAULT 0,
    password_hash           TEXT,                          -- bcrypt(hex(sha256(password)))
    active                  INTEGER NOT NULL DEFAULT 1,
    user_type               TEXT NOT NULL DEFAULT 'user',
    require_password_change INTEGER NOT NULL DEFAULT 0,
    nickname                TEXT,
    bio                     TEXT,
    status_text             TEXT,
    created_at              INTEGER NOT NULL,              -- milliseconds since the epoch
    updated_at              INTEGER NOT NULL,
    last_login              INTEGER,
    status                  TEXT                           -- users.setStatus: online/away/busy/offline; NULL = never set
) STRICT;

CREATE TABLE roles (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    description   TEXT NOT NULL DEFAULT '',
    scope         TEXT NOT NULL DEFAULT 'Users',
    protected     INTEGER NOT NULL DEFAULT 0,
    mandatory_2fa INTEGER,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX user_roles_by_role ON user_roles(role_id, user_id);

CREATE TABLE permissions (
    id         TEXT PRIMARY KEY,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE permission_roles (
    permission_id TEXT NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
    role_id       TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (permission_id, role_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX permission_roles_by_role ON permission_roles(role_id, permission_id);

-- Rocket.Chat credentials: login (resume) tokens and personal access tokens.
-- Only the SHA-256 of a token is stored; the plaintext leaves the server once.
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  BLOB NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('login', 'pat')),
    name        TEXT,                                     -- PATs only
    last_part   TEXT,                                     -- last 6 chars (lastTokenPart)
    bypass_2fa  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,                                  -- NULL = never
    two_factor_until       INTEGER,                       -- 2FA passed: trusted until then...
    two_factor_fingerprint BLOB,                          -- ...from this client (UA + address)
    -- Issue 17: 'full' or 'read-only'; last use (coalesced: at most one write a minute per
    -- token); the client that logged in; who minted it (the owner, an admin, 'cli'); a
    -- regenerated PAT's old value keeps its name here during its grace period; whether the
    -- owner was mailed that the PAT expires soon.
    scope         TEXT NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'read-only')),
    last_used_at  INTEGER,
    last_used_addr TEXT,
    user_agent    TEXT,
    created_by_id TEXT,
    created_by    TEXT,
    replaced_name TEXT,
    expiry_warned INTEGER NOT NULL DEFAULT 0,
    UNIQUE (user_id, name)
) STRICT;

-- Serves the per-user cap (newest N login tokens) and per-user revocations.
CREATE INDEX tokens_by_user ON tokens(user_id, kind, created_at);
-- Serves the periodic purge of expired rows.
CREATE INDEX tokens_by_expiry ON tokens(expires_at) WHERE expires_at IS NOT NULL;

-- Who minted, revoked or was refused which token, when and from where. Never the token.
-- No foreign keys: the record outlives the users it names.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    event        TEXT NOT NULL,       -- token.created, token.revoked, token.refused
    actor_id     TEXT,                -- NULL for the command line
    actor        TEXT NOT NULL,       -- username, or "cli"
    subject_id   TEXT,
    subject      TEXT,
    token_kind   TEXT,                -- login, pat, saymon, session
    token_label  TEXT,                -- PAT name, or the token's last characters
    client_addr  TEXT,
    detail       TEXT                 -- how it happened (login, createToken, logout...)
) STRICT;

CREATE INDEX audit_log_by_time ON audit_log(at);
CREATE INDEX audit_log_by_subject ON audit_log(subject_id, at);

-- SAYMON: one API token per user (passed as ?api-token=), stored by SHA-256; the last
-- characters are kept to show a masked authenticationToken.
CREATE TABLE saymon_tokens (
    user_id     TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    token_hash  BLOB NOT NULL UNIQUE,
    last_part   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,                                  -- NULL = never
    scope       TEXT NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'read-only')),
    last_used_at   INTEGER,
    last_used_addr TEXT
) STRICT;

-- SAYMON cookie sessions (sid), stored by SHA-256, with the CSRF token's hash when the
-- CSRF layer is on.
CREATE TABLE saymon_sessions (
    id            INTEGER PRIMARY KEY,
    session_hash  BLOB NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_hash     BLOB,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    user_agent    TEXT,
    last_used_at  INTEGER,
    last_used_addr TEXT
) STRICT;

CREATE INDEX saymon_sessions_by_user ON saymon_sessions(user_id, created_at);
CREATE INDEX saymon_sessions_by_expiry ON saymon_sessions(expires_at);

-- Permissions granted to one user directly (SAYMON's model); a user's effective
-- permissions are these plus those of the user's roles.
CREATE TABLE user_permissions (
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, permission_id)
) STRICT, WITHOUT ROWID;

-- TOTP: seeds are sealed with the key in $TOKEND_DATA_DIR/secret.key (never stored in
-- this file). `pending_secret` holds an enrolment until its first code confirms it;
-- `last_step` refuses a replayed code.
CREATE TABLE totp (
    user_id        TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret         BLOB,
    pending_secret BLOB,
    enabled        INTEGER NOT NULL DEFAULT 0,
    last_step      INTEGER,
    updated_at     INTEGER NOT NULL
) STRICT;

-- Single-use backup codes, as keyed hashes (HMAC-SHA-256 under secret.key).
CREATE TABLE totp_backup_codes (
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL,
    PRIMARY KEY (user_id, code_hash)
) STRICT, WITHOUT ROWID;

-- E-mail two-factor: whether it is on, and the one live code (keyed hash, expiry, misses).
CREATE TABLE email_2fa (
    user_id         TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    enabled         INTEGER NOT NULL DEFAULT 0,
    changed_at      INTEGER NOT NULL,
    code_hash       BLOB,
    code_expires_at INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0
) STRICT;

-- The secret-verification budget: failed (or in-flight) checks of passwords and second
-- factors per account and per client address. `key` is a keyed hash of the account (user
-- id, or the name submitted for an unknown one) or of the address: 32 bytes whatever the
-- client sent, and no plaintext name. Rows whose window has passed are purged.
CREATE TABLE secret_failures (
    scope    TEXT NOT NULL CHECK (scope IN ('account', 'address')),
    key      BLOB NOT NULL,
    failures INTEGER NOT NULL,
    last_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX secret_failures_by_time ON secret_failures(last_at);

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
CREATE TRIGGER invalidate_changed_token AFTER UPDATE OF user_id, expires_at, bypass_2fa, scope ON tokens
BEGIN
    INSERT INTO cache_invalidations (token_hash, at) VALUES (OLD.token_hash, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- Anything a cached user record or rendered document shows (not `last_login`, which every
-- login writes and nothing cached shows).
CREATE TRIGGER invalidate_changed_user AFTER UPDATE OF username, name, email, email_verified, password_hash,
    active, user_type, require_password_change, nickname, bio, status_text, status, created_at ON users
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

-- A reset link e-mailed by users.forgotPassword: only the SHA-256 of its token is kept; a
-- reset uses it once and ends the user's other links; deleting the account ends them too.
CREATE TABLE password_resets (
    token_hash  BLOB PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX password_resets_by_user ON password_resets(user_id);

-- The fingerprint of the vault key this store was first used with: HMAC-SHA-256(key,
-- "tokend-key-check"), never the key. Every start compares it with the key it was given.
CREATE TABLE vault_key_check (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint  BLOB NOT NULL,
    recorded_at  INTEGER NOT NULL
) STRICT;
