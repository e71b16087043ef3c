-- Version 2: the audit log of token events, and the 2FA "remember this client" window
-- kept per login token (Rocket.Chat's twoFactorAuthorizedUntil / twoFactorAuthorizedHash).

ALTER TABLE tokens ADD COLUMN two_factor_until INTEGER;
ALTER TABLE tokens ADD COLUMN two_factor_fingerprint BLOB;

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    event        TEXT NOT NULL,
    actor_id     TEXT,
    actor        TEXT NOT NULL,
    subject_id   TEXT,
    subject      TEXT,
    token_kind   TEXT,
    token_label  TEXT,
    client_addr  TEXT,
    detail       TEXT
) STRICT;

CREATE INDEX audit_log_by_time ON audit_log(at);
CREATE INDEX audit_log_by_subject ON audit_log(subject_id, at);
