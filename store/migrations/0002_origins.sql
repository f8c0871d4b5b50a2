-- Every post has an origin: the node that owns it. Replicas of other nodes'
-- posts live beside this node's own, and each followed node has a row in
-- follows holding this node's position in its log.
--
-- posts is rebuilt rather than altered so that origin needs no default:
-- every row written before this migration is this node's own.
CREATE TABLE posts_v2 (
    id             TEXT    PRIMARY KEY,
    origin         TEXT    NOT NULL CHECK (origin <> ''), -- id of the node that owns the post
    title          TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    author         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,           -- Unix milliseconds, as the origin set it
    updated_at     INTEGER NOT NULL,           -- Unix milliseconds
    -- version is what this node's clients see; it grows with every change
    -- here. origin_version is the origin's version of the text. They are
    -- equal except for a replica brought back after a drop: its version
    -- then stays ahead, so that clients never take the copy for stale.
    version        INTEGER NOT NULL,
    origin_version INTEGER NOT NULL,
    deleted        INTEGER NOT NULL DEFAULT 0, -- 1 for a tombstone
    -- dropped is 1 for a replica this node removed on its own (unfollow, an
    -- epoch reset at the origin): a tombstone that the origin's next copy of
    -- the post replaces, whatever its version.
    dropped        INTEGER NOT NULL DEFAULT 0 CHECK (dropped = 0 OR deleted = 1),
    seq            INTEGER NOT NULL
) STRICT;

INSERT INTO posts_v2 (id, origin, title, body, author, created_at, updated_at, version, origin_version, deleted, dropped, seq)
    SELECT id, (SELECT id FROM node), title, body, author, created_at, updated_at, version, version, deleted, 0, seq
    FROM posts;
DROP TABLE posts;
ALTER TABLE posts_v2 RENAME TO posts;

CREATE UNIQUE INDEX posts_seq ON posts (seq);
CREATE INDEX posts_feed ON posts (created_at DESC, id DESC) WHERE deleted = 0;
-- One origin's posts: its feed by date (dropped = 0 holds every live post)
-- and the replicas a drop has still to do.
CREATE INDEX posts_origin ON posts (origin, dropped, created_at DESC, id DESC);

-- Nodes this node follows, one row each, and its position in each one's log:
-- (epoch, seq) changes in the same transaction as the replicas applied
-- from that node.
CREATE TABLE follows (
    node     TEXT    PRIMARY KEY,            -- the followed node's id
    name     TEXT    NOT NULL,               -- its display name, as last heard
    url      TEXT    NOT NULL,               -- where this node reaches it, e.g. http://192.168.1.20:7700/
    epoch    TEXT    NOT NULL DEFAULT '',    -- epoch of its log that seq counts in; '' before the first change
    seq      INTEGER NOT NULL DEFAULT 0 CHECK (seq >= 0), -- last seq of its log applied here
    added_at INTEGER NOT NULL                -- Unix milliseconds
) STRICT;
