-- Version 9: the fingerprint of the vault key this store was first used with (issue 15).
-- HMAC-SHA-256(key, "tokend-key-check"), never the key: every start compares it with the key
-- it was given and refuses a different one (another node's key, or a database restored
-- without its key). One row at most.
CREATE TABLE vault_key_check (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint  BLOB NOT NULL,
    recorded_at  INTEGER NOT NULL
) STRICT;
