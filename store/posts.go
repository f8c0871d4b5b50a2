package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"lanfeed/feed"

	"modernc.org/sqlite"
)

// MaxChanges bounds one Changes call, so a replay is always read in pages.
const MaxChanges = 1000

// postColumns are what clients see of a stored post; rowColumns add what
// only the store uses.
const (
	postColumns = `id, title, body, author, origin, created_at, updated_at, version, deleted, seq`
	rowColumns  = postColumns + `, origin_version, dropped`
)

// Op is one write for Apply; build it with CreateOp, UpdateOp, DeleteOp,
// ReplicaOp, DropOp or PositionOp.
type Op struct {
	name string
	// invalid is what validating the input found when the op was built;
	// an invalid op fails without touching the database.
	invalid error
	// node is the followed node a replica, drop or position op is about.
	node string
	// position marks a position op: it fails if an earlier op of its batch
	// about the same node failed, so that a position never passes a change
	// that was not applied.
	position bool
	// run performs the write. changed reports whether it changed a post:
	// only then does the op take w.seq and is an event due.
	run func(ctx context.Context, w opTx) (p feed.Post, changed bool, err error)
}

// opTx is what an op runs with: the batch's transaction, the seq its
// change takes if it makes one, the time, and this node's id.
type opTx struct {
	tx    *sql.Tx
	stmts writeStmts // prepared on the connection tx runs on
	// bound are the statements bound to tx so far, by query; see stmt.
	bound map[string]*sql.Stmt
	// followed holds the nodes found followed earlier in the batch: no op
	// removes a follow, so one look per node and transaction is enough.
	followed map[string]bool
	seq      int64
	now      int64 // Unix milliseconds
	self     string
}

// Result is the outcome of one Op: the post as committed, or why not.
type Result struct {
	Post feed.Post
	// Unchanged is set when the op succeeded without changing a post (a
	// replica no newer than the one held, a position): it took no seq and
	// no event is due. Post is then the post as stored, if there is one.
	Unchanged bool
	Err       error
}

// CreateOp creates a new post owned by this node. An empty author becomes
// the node's name.
func CreateOp(in feed.NewPost) Op {
	return Op{name: "create post", invalid: in.Normalize(),
		run: func(ctx context.Context, w opTx) (feed.Post, bool, error) {
			if in.Author == "" {
				if err := w.tx.QueryRowContext(ctx, `SELECT name FROM node`).Scan(&in.Author); err != nil {
					return feed.Post{}, false, err
				}
			}
			r := row{Post: feed.Post{
				ID: feed.NewID(), Title: in.Title, Body: in.Body, Author: in.Author, Origin: w.self,
				CreatedAt: feed.UnixMilli(w.now), UpdatedAt: feed.UnixMilli(w.now), Version: 1, Seq: w.seq,
			}, originVersion: 1}
			return r.Post, true, putRow(ctx, w, r)
		}}
}

// UpdateOp applies patch to post id if patch.Version is its current version;
// otherwise the op fails with a conflict error carrying the current post.
// A post of another node fails with read_only.
func UpdateOp(id string, patch feed.PostPatch) Op {
	return Op{name: "update post", invalid: patch.Normalize(),
		run: func(ctx context.Context, w opTx) (feed.Post, bool, error) {
			r, err := ownForWrite(ctx, w, id, patch.Version)
			if err != nil {
				return r.Post, false, err
			}
			if patch.Title != nil {
				r.Title = *patch.Title
			}
			if patch.Body != nil {
				r.Body = *patch.Body
			}
			return r.Post, true, saveChange(ctx, w, &r)
		}}
}

// DeleteOp turns post id into a tombstone: title and body are erased,
// Deleted is set, and the change gets a seq like any other. version 0
// deletes whatever the current version is; any other value must match it.
// A post of another node fails with read_only.
func DeleteOp(id string, version int64) Op {
	op := Op{name: "delete post",
		run: func(ctx context.Context, w opTx) (feed.Post, bool, error) {
			r, err := ownForWrite(ctx, w, id, version)
			if err != nil {
				return r.Post, false, err
			}
			r.Title, r.Body, r.Deleted = "", "", true
			return r.Post, true, saveChange(ctx, w, &r)
		}}
	if version < 0 {
		op.invalid = feed.Invalid("version", "version must be 1 or more, or left out")
	}
	return op
}

// Check reports whether op's input is invalid; the input was validated
// (and normalised) once, when the op was built.
func (op Op) Check() error { return op.invalid }

// Create, Update and Delete commit one write each, in a transaction of its
// own. They publish nothing: a change that peers must see goes through
// app.Service, which batches writes with Apply and publishes them.

// Create commits a new post. An empty author becomes the node's name.
func (s *Store) Create(ctx context.Context, in feed.NewPost) (feed.Post, error) {
	return s.applyOne(ctx, CreateOp(in))
}

// Update applies patch to post id if patch.Version is its current version;
// otherwise it returns a conflict error carrying the current post.
func (s *Store) Update(ctx context.Context, id string, patch feed.PostPatch) (feed.Post, error) {
	return s.applyOne(ctx, UpdateOp(id, patch))
}

// Delete tombstones post id; see DeleteOp.
func (s *Store) Delete(ctx context.Context, id string, version int64) (feed.Post, error) {
	return s.applyOne(ctx, DeleteOp(id, version))
}

func (s *Store) applyOne(ctx context.Context, op Op) (feed.Post, error) {
	r := s.Apply(ctx, []Op{op})[0]
	return r.Post, r.Err
}

// Apply commits ops in one transaction, so that they share one fsync: this
// is the group commit that lets many writers go faster than one commit per
// post. Each op still succeeds or fails on its own: a failed op (invalid,
// not found, conflict, read only) leaves no trace and takes no seq: the
// batch then runs again with a savepoint per op, and the failed op alone is
// rolled back to its own. Each op that changes a post takes the next seq, in
// the order given, so seqs stay gap-free; an op that succeeds without a
// change (Result.Unchanged) takes none. If the transaction cannot commit,
// every op fails with that error and the seq counter does not move: a
// follower's position and the replicas applied with it commit together or
// not at all. Results are in the order of ops.
func (s *Store) Apply(ctx context.Context, ops []Op) []Result {
	results := make([]Result, len(ops))
	todo := make([]int, 0, len(ops)) // indexes of the valid ops
	for i, op := range ops {
		if op.invalid != nil {
			results[i].Err = op.invalid
			continue
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return results
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		for _, i := range todo {
			results[i].Err = wrap(ops[i].name, errors.New("store is closed"))
		}
		return results
	}
	// The first attempt runs the ops without savepoints: most batches
	// (a follower's catch-up above all) have no failing op, and a savepoint
	// and its release per op cost about as much as a small op itself. Any
	// error there, whether of the data or of SQLite, rolls the whole
	// transaction back, so nothing an op did before it failed can stay;
	// the batch then runs again, each op in its own savepoint, which
	// isolates the op that fails. A batch of one needs no savepoint at all.
	seq, err := s.applyTx(ctx, ops, todo, results, len(todo) == 1)
	if errors.Is(err, errRetryOneByOne) {
		seq, err = s.applyTx(ctx, ops, todo, results, true)
	}
	if err != nil {
		for _, i := range todo {
			results[i] = Result{Err: wrap(ops[i].name, err)}
		}
		return results
	}
	s.seq = seq
	return results
}

// errRetryOneByOne ends a batch's first attempt, without savepoints, at
// its first failing op: the transaction is rolled back and the batch runs
// again with one savepoint per op.
var errRetryOneByOne = errors.New("store: an op of the batch failed; retrying each in its own savepoint")

// applyTx runs ops[todo] in one transaction and commits it, filling
// results; it returns the seq of the last change. With isolate, each op
// runs in its own savepoint (unless it is the only one: the transaction is
// then its own) and a failing op fails alone. Without, the first failing
// op rolls everything back and applyTx returns errRetryOneByOne. Nothing
// of s changes here: the caller moves s.seq once the commit succeeded.
func (s *Store) applyTx(ctx context.Context, ops []Op, todo []int, results []Result, isolate bool) (int64, error) {
	for _, i := range todo {
		results[i] = Result{} // what a first attempt left
	}
	seq := s.seq
	single := len(todo) == 1
	followed := map[string]bool{}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		bound := map[string]*sql.Stmt{}
		for _, i := range todo {
			if ops[i].position && failedBefore(ops, results, i) {
				results[i].Err = feed.Errorf(feed.CodeInvalid,
					"position in node %s's log not recorded: a change from it in the same batch failed", ops[i].node)
				continue
			}
			w := opTx{tx: tx, stmts: s.stmts, bound: bound, followed: followed, seq: seq + 1, now: s.now().UnixMilli(), self: s.self}
			p, changed, err := runOp(ctx, w, ops[i], single || !isolate)
			if err != nil {
				if single || errors.Is(err, errTxBroken) {
					return err
				}
				if !isolate {
					return errRetryOneByOne
				}
				results[i].Err = wrap(ops[i].name, err)
				continue
			}
			if changed {
				seq++
			}
			results[i] = Result{Post: p, Unchanged: !changed}
		}
		return nil
	})
	return seq, err
}

// failedBefore reports whether an op before ops[i] about the same node
// failed.
func failedBefore(ops []Op, results []Result, i int) bool {
	for j := range i {
		if ops[j].node == ops[i].node && results[j].Err != nil {
			return true
		}
	}
	return false
}

// errTxBroken marks a savepoint that could not be rolled back: the whole
// transaction must go.
var errTxBroken = errors.New("store: savepoint rollback failed")

// runOp runs one op of a batch inside its own savepoint, or bare.
func runOp(ctx context.Context, w opTx, op Op, bare bool) (feed.Post, bool, error) {
	if bare {
		return op.run(ctx, w)
	}
	if _, err := w.exec(ctx, qSavepoint); err != nil {
		return feed.Post{}, false, fmt.Errorf("%w: %w", errTxBroken, err)
	}
	p, changed, err := op.run(ctx, w)
	if err != nil {
		if _, rbErr := w.tx.ExecContext(ctx, `ROLLBACK TO op; RELEASE op`); rbErr != nil {
			return feed.Post{}, false, fmt.Errorf("%w: %w (after %w)", errTxBroken, rbErr, err)
		}
		return feed.Post{}, false, err
	}
	if _, err := w.exec(ctx, qRelease); err != nil {
		return feed.Post{}, false, fmt.Errorf("%w: %w", errTxBroken, err)
	}
	return p, changed, nil
}

// row is a post as stored: what clients see and what only the store uses.
type row struct {
	feed.Post
	originVersion int64 // the origin's version of the text; see the migration 0002
	dropped       bool  // a replica dropped here: a tombstone the origin's next copy replaces
}

// loadRow reads post id for a write; sql.ErrNoRows if there is none.
func loadRow(ctx context.Context, w opTx, id string) (row, error) {
	var r row
	var err error
	r.Post, err = scanPost(w.queryRow(ctx, qLoadRow, id), &r.originVersion, &r.dropped)
	return r, err
}

// putRow writes every column of r, inserting or replacing post r.ID.
func putRow(ctx context.Context, w opTx, r row) error {
	_, err := w.exec(ctx, qPutRow, rowArgs(r)...)
	return err
}

// rowArgs are r's columns in rowColumns' order.
func rowArgs(r row) []any {
	return []any{r.ID, r.Title, r.Body, r.Author, r.Origin, r.CreatedAt.UnixMilli(), r.UpdatedAt.UnixMilli(),
		r.Version, r.Deleted, r.Seq, r.originVersion, r.dropped}
}

// ownForWrite loads a post of this node that is about to change and checks
// its version (0 skips the check).
func ownForWrite(ctx context.Context, w opTx, id string, version int64) (row, error) {
	r, err := loadRow(ctx, w, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.Deleted) {
		return r, notFound(id)
	}
	if err != nil {
		return r, err
	}
	if r.Origin != w.self {
		owner, err := ownerName(ctx, w, r.Origin)
		if err != nil {
			return r, err
		}
		return r, feed.Errorf(feed.CodeReadOnly,
			"post %s belongs to %s: only that node can change it; edit or delete it there", id, owner)
	}
	if version != 0 && version != r.Version {
		current := r.Post
		return r, &feed.Error{Code: feed.CodeConflict, Post: &current,
			Message: fmt.Sprintf("post was changed meanwhile: you edited version %d, the current version is %d", version, r.Version)}
	}
	return r, nil
}

// ownerName names node for a message: "this node", the name it has in
// follows with its id, or its id alone.
func ownerName(ctx context.Context, w opTx, node string) (string, error) {
	if node == w.self {
		return "this node", nil
	}
	var name string
	err := w.tx.QueryRowContext(ctx, `SELECT name FROM follows WHERE node = ?`, node).Scan(&name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "node " + node, nil
	case err != nil:
		return "", err
	}
	return fmt.Sprintf("node %q (%s)", name, node), nil
}

// saveChange writes r, a post of this node, back as its next version with
// the op's seq.
func saveChange(ctx context.Context, w opTx, r *row) error {
	// A clock stepping back never makes updatedAt go back.
	r.UpdatedAt = feed.UnixMilli(max(w.now, r.UpdatedAt.UnixMilli()))
	r.Version++
	r.originVersion = r.Version
	r.Seq = w.seq
	return putRow(ctx, w, *r)
}

// Get returns post id; deleted posts are not found.
func (s *Store) Get(ctx context.Context, id string) (feed.Post, error) {
	p, err := scanPost(s.r.QueryRowContext(ctx, `SELECT `+postColumns+` FROM posts WHERE id = ? AND deleted = 0`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound(id)
	}
	if err != nil {
		return p, fmt.Errorf("store: get post: %w", err)
	}
	return p, nil
}

// List returns up to q.Limit live posts, newest createdAt first and, for
// equal times, greatest id first: the newest, those just older than cursor
// q.Before, or those just newer than cursor q.After. Prev is empty only
// when the page was read with the newest post on it (or there are none).
func (s *Store) List(ctx context.Context, q feed.PageQuery) (feed.Page, error) {
	if err := q.Check(); err != nil {
		return feed.Page{}, err
	}
	// Both directions read limit+1 posts from the cursor away: the extra one
	// says whether there are more that way.
	query := `SELECT ` + postColumns + ` FROM posts WHERE deleted = 0`
	args := []any{}
	order := ` ORDER BY created_at DESC, id DESC LIMIT ?`
	switch {
	case q.Before != "":
		ms, id, err := parseCursor("before", q.Before)
		if err != nil {
			return feed.Page{}, err
		}
		query += ` AND (created_at, id) < (?, ?)`
		args = append(args, ms, id)
	case q.After != "":
		ms, id, err := parseCursor("after", q.After)
		if err != nil {
			return feed.Page{}, err
		}
		query += ` AND (created_at, id) > (?, ?)`
		args = append(args, ms, id)
		order = ` ORDER BY created_at, id LIMIT ?`
	}
	args = append(args, q.Limit+1)
	// One read transaction: the seq and the posts come from the same snapshot.
	var page feed.Page
	var posts []feed.Post
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM posts`).Scan(&page.Seq); err != nil {
			return err
		}
		var err error
		posts, err = queryPosts(ctx, tx, query+order, args...)
		return err
	})
	if err != nil {
		return feed.Page{}, fmt.Errorf("store: list posts: %w", err)
	}
	more := len(posts) > q.Limit
	page.Posts = posts[:min(len(posts), q.Limit)]
	if q.After == "" {
		if more {
			page.Next = cursorOf(page.Posts[q.Limit-1])
		}
		switch {
		case q.Before == "": // the head of the feed
		case len(page.Posts) > 0:
			page.Prev = cursorOf(page.Posts[0])
		default:
			page.Prev = q.Before
		}
		return page, nil
	}
	slices.Reverse(page.Posts)
	if more {
		page.Prev = cursorOf(page.Posts[0])
	}
	page.Next = q.After
	if len(page.Posts) > 0 {
		page.Next = cursorOf(page.Posts[len(page.Posts)-1])
	}
	return page, nil
}

// Changes returns up to limit posts, tombstones included, whose last change
// has a seq greater than since, in seq order: the latest state of each post
// changed after since.
func (s *Store) Changes(ctx context.Context, since int64, limit int) ([]feed.Post, error) {
	if limit < 1 || limit > MaxChanges {
		return nil, feed.Invalid("limit", fmt.Sprintf("limit must be between 1 and %d", MaxChanges))
	}
	posts, err := queryPosts(ctx, s.r, `SELECT `+postColumns+` FROM posts WHERE seq > ? ORDER BY seq LIMIT ?`, since, limit)
	if err != nil {
		return nil, fmt.Errorf("store: changes since %d: %w", since, err)
	}
	return posts, nil
}

// ChangesOf is Changes restricted to the posts of node origin: what a node
// replays to a follower that asks only for the posts it originated. The
// seqs it returns have gaps where other nodes' posts changed.
func (s *Store) ChangesOf(ctx context.Context, origin string, since int64, limit int) ([]feed.Post, error) {
	if limit < 1 || limit > MaxChanges {
		return nil, feed.Invalid("limit", fmt.Sprintf("limit must be between 1 and %d", MaxChanges))
	}
	posts, err := queryPosts(ctx, s.r, `SELECT `+postColumns+` FROM posts WHERE origin = ? AND seq > ? ORDER BY seq LIMIT ?`,
		origin, since, limit)
	if err != nil {
		return nil, fmt.Errorf("store: changes of %s since %d: %w", origin, since, err)
	}
	return posts, nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryPosts(ctx context.Context, q querier, query string, args ...any) ([]feed.Post, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	posts := []feed.Post{}
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, err
		}
		posts = append(posts, p)
	}
	return posts, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

// scanPost scans the postColumns, then into extra the columns after them.
func scanPost(row scanner, extra ...any) (feed.Post, error) {
	var p feed.Post
	var created, updated int64
	err := row.Scan(append([]any{&p.ID, &p.Title, &p.Body, &p.Author, &p.Origin, &created, &updated, &p.Version, &p.Deleted, &p.Seq},
		extra...)...)
	p.CreatedAt, p.UpdatedAt = feed.UnixMilli(created), feed.UnixMilli(updated)
	return p, err
}

// A cursor is opaque to clients: base64url of "<createdAt ms>.<id>", the
// position of post p in the feed.
func cursorOf(p feed.Post) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.CreatedAt.UnixMilli(), 10) + "." + p.ID))
}

// parseCursor reads cursor c, given as field.
func parseCursor(field, c string) (int64, string, error) {
	bad := feed.Invalid(field, field+" is not a cursor this node returned")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", bad
	}
	msText, id, ok := strings.Cut(string(raw), ".")
	ms, err := strconv.ParseInt(msText, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", bad
	}
	return ms, id, nil
}

func notFound(id string) *feed.Error {
	return feed.Errorf(feed.CodeNotFound, "no post with id %q", id)
}

// wrap adds context to errors that are not already client-facing.
func wrap(op string, err error) error {
	var fe *feed.Error
	if errors.As(err, &fe) {
		return err
	}
	err = fmt.Errorf("store: %s: %w", op, err)
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqliteFull {
		return feed.Wrap(feed.CodeInternal, "the node's disk is full: nothing was saved; free some space and try again", err)
	}
	return err
}

// sqliteFull is SQLITE_FULL, the primary result code of a full disk.
const sqliteFull = 13
