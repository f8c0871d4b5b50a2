-- One origin's changes in seq order: what a node streams to a follower that
-- asks only for the posts it originated (/ws?origin=self).
CREATE INDEX posts_origin_seq ON posts (origin, seq);
