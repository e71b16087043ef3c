-- Version 5: the secret-verification budget (failed-login blocking) moves from process
-- memory into the store, so that every node of a cluster shares it and no burst of
-- concurrent guesses can overshoot it (each attempt is reserved here before verifying).

CREATE TABLE secret_failures (
    scope    TEXT NOT NULL CHECK (scope IN ('account', 'address')),
    key      BLOB NOT NULL,
    failures INTEGER NOT NULL,
    last_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX secret_failures_by_time ON secret_failures(last_at);
