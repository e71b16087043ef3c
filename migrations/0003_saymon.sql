-- Version 3: the SAYMON dialect. One API token per user, cookie sessions, and
-- permissions granted to a user directly (effective permissions = roles + direct).

CREATE TABLE saymon_tokens (
    user_id     TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    token_hash  BLOB NOT NULL UNIQUE,
    last_part   TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE saymon_sessions (
    id            INTEGER PRIMARY KEY,
    session_hash  BLOB NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_hash     BLOB,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX saymon_sessions_by_user ON saymon_sessions(user_id, created_at);
CREATE INDEX saymon_sessions_by_expiry ON saymon_sessions(expires_at);

CREATE TABLE user_permissions (
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, permission_id)
) STRICT, WITHOUT ROWID;
