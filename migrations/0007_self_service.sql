-- Issue 16: self-service. The status a user chose (users.setStatus) and password resets
-- (users.forgotPassword).

-- online, away, busy or offline as the user set it; NULL until they set one (shown offline).
ALTER TABLE users ADD COLUMN status TEXT;

-- One row per reset link e-mailed: only the SHA-256 of its token is kept; a reset uses it
-- once and ends the user's other links; deleting the account ends them too.
CREATE TABLE password_resets (
    token_hash  BLOB PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX password_resets_by_user ON password_resets(user_id);

-- The cached user record now shows the status too.
DROP TRIGGER invalidate_changed_user;
CREATE TRIGGER invalidate_changed_user AFTER UPDATE OF username, name, email, email_verified, password_hash,
    active, user_type, require_password_change, nickname, bio, status_text, status, created_at ON users
BEGIN
    INSERT INTO cache_invalidations (user_id, at) VALUES (NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
