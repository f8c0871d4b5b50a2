-- The node's identity: exactly one row, created on first open.
CREATE TABLE node (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    id         TEXT    NOT NULL,           -- UUIDv7 of this node
    name       TEXT    NOT NULL,           -- display name, shown to peers
    epoch      TEXT    NOT NULL,           -- random id of this database; a new database is a new epoch
    token      TEXT    NOT NULL,           -- pairing token that authorises writes
    created_at INTEGER NOT NULL            -- Unix milliseconds
) STRICT;

-- Posts, tombstones included. seq is the database-wide sequence number of the
-- post's last change; it is unique, so MAX(seq) is the node's current seq.
CREATE TABLE posts (
    id         TEXT    PRIMARY KEY,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,           -- Unix milliseconds
    updated_at INTEGER NOT NULL,           -- Unix milliseconds
    version    INTEGER NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0, -- 1 for a tombstone
    seq        INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX posts_seq ON posts (seq);
CREATE INDEX posts_feed ON posts (created_at DESC, id DESC) WHERE deleted = 0;
