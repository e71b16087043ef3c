-- Version 4: TOTP and e-mail two-factor methods.

CREATE TABLE totp (
    user_id        TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret         BLOB,
    pending_secret BLOB,
    enabled        INTEGER NOT NULL DEFAULT 0,
    last_step      INTEGER,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE totp_backup_codes (
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL,
    PRIMARY KEY (user_id, code_hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE email_2fa (
    user_id         TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    enabled         INTEGER NOT NULL DEFAULT 0,
    changed_at      INTEGER NOT NULL,
    code_hash       BLOB,
    code_expires_at INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0
) STRICT;
