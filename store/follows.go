package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"lanfeed/feed"
)

// Follow is a node this node follows and this node's position in its log:
// every change of that log up to Seq, in Epoch, has been applied here.
type Follow struct {
	Node    string // the followed node's id
	Name    string // its display name, as last heard
	URL     string // where this node reaches it
	Epoch   string // the epoch Seq counts in; "" before the first position
	Seq     int64  // the last seq of its log applied here; 0 before the first
	AddedAt time.Time
}

// maxURL bounds a followed node's address, in bytes.
const maxURL = 2048

// AddFollow records that this node follows node, reached at rawURL and
// named name. Following a node again updates its address and name and
// keeps the position: a node is followed once, wherever it was seen. It is
// an explicit follow: a node unfollowed here earlier (Unfollow) is no longer
// declined.
func (s *Store) AddFollow(ctx context.Context, rawURL, node, name string) (Follow, error) {
	return s.addFollow(ctx, rawURL, node, name, false)
}

// ErrDeclined is AutoFollow's answer for a node unfollowed here.
var ErrDeclined = errors.New("store: the node was unfollowed here; only an explicit follow follows it again")

// AutoFollow is AddFollow for a node that discovery found: it fails with
// ErrDeclined, recording nothing, if node was unfollowed here and not
// followed explicitly since. The check and the follow are one transaction,
// so an Unfollow that commits first always wins.
func (s *Store) AutoFollow(ctx context.Context, rawURL, node, name string) (Follow, error) {
	return s.addFollow(ctx, rawURL, node, name, true)
}

func (s *Store) addFollow(ctx context.Context, rawURL, node, name string, auto bool) (Follow, error) {
	name = strings.TrimSpace(name)
	if err := s.checkFollow(rawURL, node, name); err != nil {
		return Follow{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	declined := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if auto {
			err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM declined WHERE node = ?)`, node).Scan(&declined)
			if err != nil || declined {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, `DELETE FROM declined WHERE node = ?`, node); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO follows (node, name, url, added_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (node) DO UPDATE SET name = excluded.name, url = excluded.url`,
			node, name, rawURL, s.now().UnixMilli())
		return err
	})
	if err != nil {
		return Follow{}, fmt.Errorf("store: add follow: %w", err)
	}
	if declined {
		return Follow{}, fmt.Errorf("%w (node %s)", ErrDeclined, node)
	}
	return s.Follow(ctx, node)
}

// RenameFollow records the display name a followed node now has; it
// changes nothing if node is not followed.
func (s *Store) RenameFollow(ctx context.Context, node, name string) error {
	name = strings.TrimSpace(name)
	if err := feed.CheckName("name", name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE follows SET name = ? WHERE node = ?`, name, node)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: rename follow: %w", err)
	}
	return nil
}

func (s *Store) checkFollow(rawURL, node, name string) error {
	if err := feed.CheckID("node", node); err != nil {
		return err
	}
	if node == s.self {
		return feed.Invalid("node", "this is this node's own id: a node never follows itself")
	}
	if err := feed.CheckName("name", name); err != nil {
		return err
	}
	u, err := url.Parse(rawURL)
	if err != nil || len(rawURL) > maxURL || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return feed.Invalid("url", "url must be a node's address, like http://192.168.1.20:7700/")
	}
	return nil
}

// RemoveFollow forgets node and this node's position in its log. Replicas
// of its posts stay until DropOrigin removes them; from now on ReplicaOp
// refuses the changes it sends.
func (s *Store) RemoveFollow(ctx context.Context, node string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM follows WHERE node = ?`, node)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: remove follow: %w", err)
	}
	if n == 0 {
		return notFollowing(node)
	}
	return nil
}

// Unfollow is RemoveFollow by the user's choice: in the same transaction
// it records node as declined, so that AutoFollow leaves it alone until
// AddFollow follows it again. It records the decline even if node is not
// followed (then it returns a not_found error, as RemoveFollow does).
func (s *Store) Unfollow(ctx context.Context, node string) error {
	if err := feed.CheckID("node", node); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO declined (node, declined_at) VALUES (?, ?)
			ON CONFLICT (node) DO UPDATE SET declined_at = excluded.declined_at`, node, s.now().UnixMilli())
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM follows WHERE node = ?`, node)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: unfollow: %w", err)
	}
	if n == 0 {
		return notFollowing(node)
	}
	return nil
}

// Declined returns the ids of the nodes unfollowed here and not followed
// explicitly since, sorted.
func (s *Store) Declined(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT node FROM declined ORDER BY node`)
	if err != nil {
		return nil, fmt.Errorf("store: read declined nodes: %w", err)
	}
	defer rows.Close()
	nodes := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("store: read declined nodes: %w", err)
		}
		nodes = append(nodes, n)
	}
	return nodes, rows.Err()
}

const followColumns = `node, name, url, epoch, seq, added_at`

// Follow returns the followed node's row, or a not_found error.
func (s *Store) Follow(ctx context.Context, node string) (Follow, error) {
	f, err := scanFollow(s.r.QueryRowContext(ctx, `SELECT `+followColumns+` FROM follows WHERE node = ?`, node))
	if errors.Is(err, sql.ErrNoRows) {
		return f, notFollowing(node)
	}
	if err != nil {
		return f, fmt.Errorf("store: read follow: %w", err)
	}
	return f, nil
}

// Follows returns every followed node, oldest follow first.
func (s *Store) Follows(ctx context.Context) ([]Follow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+followColumns+` FROM follows ORDER BY added_at, node`)
	if err != nil {
		return nil, fmt.Errorf("store: read follows: %w", err)
	}
	defer rows.Close()
	follows := []Follow{}
	for rows.Next() {
		f, err := scanFollow(rows)
		if err != nil {
			return nil, fmt.Errorf("store: read follows: %w", err)
		}
		follows = append(follows, f)
	}
	return follows, rows.Err()
}

func scanFollow(row scanner) (Follow, error) {
	var f Follow
	var added int64
	err := row.Scan(&f.Node, &f.Name, &f.URL, &f.Epoch, &f.Seq, &added)
	f.AddedAt = time.UnixMilli(added).UTC()
	return f, err
}

// maxEpoch bounds an epoch's length; lanfeed's are 32 hex digits.
const maxEpoch = 64

// PositionOp records, in the batch's transaction, that every change of
// node's log up to seq in epoch has been applied here: put it after the
// ReplicaOps of those changes and they commit together or not at all. It
// takes no seq. It fails, recording nothing, if node is not followed, if an
// earlier op of the batch about node failed, if seq goes back within the
// epoch, or if the epoch is not the one recorded: a new epoch at the origin
// means its replicas are dropped first (DropOps, DropOrigin), which clears
// the position.
func PositionOp(node, epoch string, seq int64) Op {
	return Op{name: "record position", node: node, position: true, invalid: checkPosition(node, epoch, seq),
		run: func(ctx context.Context, w opTx) (feed.Post, bool, error) {
			var have string
			var haveSeq int64
			err := w.tx.QueryRowContext(ctx, `SELECT epoch, seq FROM follows WHERE node = ?`, node).Scan(&have, &haveSeq)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return feed.Post{}, false, notFollowing(node)
			case err != nil:
				return feed.Post{}, false, err
			case have != "" && have != epoch:
				return feed.Post{}, false, feed.Invalid("epoch", fmt.Sprintf(
					"node %s's log has a new epoch: drop its replicas before following it from the start", node))
			case have == epoch && seq < haveSeq:
				return feed.Post{}, false, feed.Invalid("seq", fmt.Sprintf(
					"position in node %s's log would go back from %d to %d", node, haveSeq, seq))
			}
			_, err = w.tx.ExecContext(ctx, `UPDATE follows SET epoch = ?, seq = ? WHERE node = ?`, epoch, seq, node)
			return feed.Post{}, false, err
		}}
}

func checkPosition(node, epoch string, seq int64) error {
	if err := feed.CheckID("node", node); err != nil {
		return err
	}
	notPrintable := func(r rune) bool { return r <= ' ' || r > '~' }
	if epoch == "" || len(epoch) > maxEpoch || strings.IndexFunc(epoch, notPrintable) >= 0 {
		return feed.Invalid("epoch", fmt.Sprintf("epoch must be 1 to %d printable ASCII characters", maxEpoch))
	}
	if seq < 0 {
		return feed.Invalid("seq", "seq must be 0 or more")
	}
	return nil
}

// resetPositionOp clears the position in node's log, if node is followed,
// once none of its replicas is left undropped.
func resetPositionOp(node string) Op {
	return Op{name: "reset position", node: node, position: true,
		run: func(ctx context.Context, w opTx) (feed.Post, bool, error) {
			var left int
			err := w.tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM posts WHERE origin = ? AND dropped = 0 LIMIT 1)`, node).Scan(&left)
			if err != nil {
				return feed.Post{}, false, err
			}
			if left > 0 { // applied meanwhile: the caller did not stop following it first
				return feed.Post{}, false, fmt.Errorf("replicas of node %s arrived while they were being dropped", node)
			}
			_, err = w.tx.ExecContext(ctx, `UPDATE follows SET epoch = '', seq = 0 WHERE node = ?`, node)
			return feed.Post{}, false, err
		}}
}

func notFollowing(node string) *feed.Error {
	return feed.Errorf(feed.CodeNotFound, "this node does not follow node %q", node)
}
