package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"lanfeed/feed"
)

// maxClockAhead is how far a replica's updatedAt may be ahead of this
// node's clock: clocks on a LAN disagree a little, but a post dated far
// ahead would stay at the top of everyone's feed.
const maxClockAhead = 24 * time.Hour

// ReplicaOp applies post p as followed node from sent it: the origin's own
// state of one of its posts. It keeps the origin's id, author, times,
// deleted flag and text, and takes the next local seq, so that this node's
// clients see the change in its log like any other.
//
// Nothing a followed node sends is trusted. The op fails if p breaks a rule
// (feed.Post.Validate), if p's origin is not from (a node sends only its own
// posts) or is this node, if p is dated more than a day ahead of this
// node's clock, if from is not followed, or if post p.ID exists here with
// another origin (read_only: no node overwrites a post it does not own).
//
// A copy no newer than the one held (by the origin's version) changes
// nothing: the op succeeds Unchanged, without a seq. A dropped replica (see
// DropOp) takes the origin's copy whatever its version. The version this
// node's clients see is the origin's, except after a drop: it then stays
// above the dropped tombstone's, so that clients do not take the post back
// for a stale copy.
func ReplicaOp(from string, p feed.Post) Op {
	return Op{name: "apply replica", node: from, invalid: checkReplica(from, p),
		run: func(ctx context.Context, w opTx) (feed.Post, bool, error) {
			if from == w.self {
				return feed.Post{}, false, feed.Invalid("origin",
					fmt.Sprintf("post %s claims to be this node's own: this node's posts are never replicas", p.ID))
			}
			if ahead := time.Duration(p.UpdatedAt.UnixMilli()-w.now) * time.Millisecond; ahead > maxClockAhead {
				return feed.Post{}, false, feed.Invalid("updatedAt", fmt.Sprintf(
					"post %s is dated %s ahead of this node's clock; the limit is %s", p.ID, ahead.Round(time.Minute), maxClockAhead))
			}
			if err := mustFollow(ctx, w, from); err != nil {
				return feed.Post{}, false, err
			}
			r := row{Post: p, originVersion: p.Version}
			r.Seq = w.seq
			// Most replicas are new (a catch-up is nothing else): insert
			// first, and read the row held only if there is one.
			if res, err := w.exec(ctx, qInsertNew, rowArgs(r)...); err != nil {
				return feed.Post{}, false, err
			} else if n, err := res.RowsAffected(); err != nil || n == 1 {
				return r.Post, err == nil, err
			}
			cur, err := loadRow(ctx, w, p.ID)
			switch {
			case errors.Is(err, sql.ErrNoRows): // a new replica
			case err != nil:
				return feed.Post{}, false, err
			case cur.Origin != from:
				owner, err := ownerName(ctx, w, cur.Origin)
				if err != nil {
					return feed.Post{}, false, err
				}
				return feed.Post{}, false, feed.Errorf(feed.CodeReadOnly,
					"node %s sent post %s, which belongs to %s: refused", from, p.ID, owner)
			case !cur.dropped && p.Version <= cur.originVersion:
				return cur.Post, false, nil
			default:
				r.Version = max(p.Version, cur.Version+1)
			}
			return r.Post, true, putRow(ctx, w, r)
		}}
}

// checkReplica is what ReplicaOp can tell without the database.
func checkReplica(from string, p feed.Post) error {
	if err := feed.CheckID("from", from); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Origin != from {
		return feed.Invalid("origin", fmt.Sprintf(
			"node %s sent post %s as a post of node %s: a node sends only its own posts", from, p.ID, p.Origin))
	}
	return nil
}

// mustFollow fails unless node is followed.
func mustFollow(ctx context.Context, w opTx, node string) error {
	if w.followed[node] {
		return nil
	}
	var one int
	err := w.queryRow(ctx, qFollowed, node).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFollowing(node)
	}
	if err == nil && w.followed != nil {
		w.followed[node] = true
	}
	return err
}

// DropOp drops this node's replica id of node origin, for an unfollow or a
// new epoch at the origin. A live replica becomes a tombstone with the next
// seq and a greater version, so that this node's clients see it deleted;
// its text is erased. It stays marked dropped, so that the origin's copy
// brings it back whatever its version when this node follows the origin
// again. A replica already deleted is only marked, unchanged; one already
// dropped, or none at all, is left unchanged. This node's own posts are
// never dropped.
func DropOp(origin, id string) Op {
	return Op{name: "drop replica", node: origin,
		run: func(ctx context.Context, w opTx) (feed.Post, bool, error) {
			if origin == w.self {
				return feed.Post{}, false, errors.New("this node's own posts are never dropped")
			}
			r, err := loadRow(ctx, w, id)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return feed.Post{}, false, nil
			case err != nil:
				return feed.Post{}, false, err
			case r.Origin != origin:
				return feed.Post{}, false, fmt.Errorf("post %s belongs to node %s, not %s", id, r.Origin, origin)
			case r.dropped:
				return r.Post, false, nil
			case r.Deleted: // clients already see it deleted: no change for them
				r.dropped = true
				return r.Post, false, putRow(ctx, w, r)
			}
			r.Title, r.Body, r.Deleted, r.dropped = "", "", true, true
			r.Version++
			r.UpdatedAt = feed.UnixMilli(max(w.now, r.UpdatedAt.UnixMilli()))
			r.Seq = w.seq
			return r.Post, true, putRow(ctx, w, r)
		}}
}

// DropOps returns the ops that drop the next limit replicas of node origin
// not yet dropped, newest post first. When they are the last (last is
// set), the ops end with one that clears the position in origin's log,
// which fails if replicas of origin arrived meanwhile. Stop following
// origin (RemoveFollow, or stop applying its changes) first, then commit
// each batch with Apply, publishing the tombstones, until last: every
// transaction stays bounded, however many posts origin has.
func (s *Store) DropOps(ctx context.Context, origin string, limit int) (ops []Op, last bool, err error) {
	if err := feed.CheckID("node", origin); err != nil {
		return nil, false, err
	}
	if origin == s.self {
		return nil, false, feed.Invalid("node", "this node's own posts are never dropped")
	}
	if limit < 1 {
		return nil, false, feed.Invalid("limit", "limit must be 1 or more")
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM posts WHERE origin = ? AND dropped = 0
		ORDER BY created_at DESC, id DESC LIMIT ?`, origin, limit)
	if err != nil {
		return nil, false, fmt.Errorf("store: list replicas of %s: %w", origin, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, false, fmt.Errorf("store: list replicas of %s: %w", origin, err)
		}
		ops = append(ops, DropOp(origin, id))
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("store: list replicas of %s: %w", origin, err)
	}
	if last = len(ops) < limit; last {
		ops = append(ops, resetPositionOp(origin))
	}
	return ops, last, nil
}

// dropBatch is how many replicas one transaction of DropOrigin drops.
const dropBatch = 500

// DropOrigin drops every replica of node origin (see DropOp) and clears
// the position in its log, in transactions of at most dropBatch posts. It
// returns how many tombstones it made. Like Create it publishes nothing:
// to tell clients, commit DropOps through the app's write path instead.
func (s *Store) DropOrigin(ctx context.Context, origin string) (int, error) {
	n := 0
	for {
		ops, last, err := s.DropOps(ctx, origin, dropBatch)
		if err != nil {
			return n, err
		}
		for _, r := range s.Apply(ctx, ops) {
			if r.Err != nil {
				return n, r.Err
			}
			if !r.Unchanged {
				n++
			}
		}
		if last {
			return n, nil
		}
	}
}
