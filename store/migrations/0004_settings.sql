-- This node's settings, one row per setting, each value in JSON: a key that
-- is missing has its default (auto_follow: false). Settings are few and
-- read rarely, so a key/value table beats a column per setting, which
-- would need a migration each.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,                 -- e.g. auto_follow
    value TEXT NOT NULL CHECK (json_valid(value))
) STRICT;

-- Nodes unfollowed here by hand: auto-follow leaves them alone until they
-- are followed again explicitly (by address or from the nearby list), which
-- removes their row.
CREATE TABLE declined (
    node        TEXT    PRIMARY KEY,        -- the unfollowed node's id
    declined_at INTEGER NOT NULL            -- Unix milliseconds
) STRICT;
