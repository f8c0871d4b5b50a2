-- lanfeed's posts table and indexes (store/migrations/0001_init.sql), for the better-sqlite3 reference.
CREATE TABLE IF NOT EXISTS posts (
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

CREATE UNIQUE INDEX IF NOT EXISTS posts_seq ON posts (seq);
CREATE INDEX IF NOT EXISTS posts_feed ON posts (created_at DESC, id DESC) WHERE deleted = 0;
