package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lanfeed/feed"

	"modernc.org/sqlite"
)

// MaxChanges bounds one Changes call, so a replay is always read in pages.
const MaxChanges = 1000

const postColumns = `id, title, body, author, created_at, updated_at, version, deleted, seq`

// Op is one write for Apply; build it with CreateOp, UpdateOp or DeleteOp.
type Op struct {
	name string
	// invalid is what validating the input found when the op was built;
	// an invalid op fails without touching the database.
	invalid error
	// run performs the write in tx with the change's seq and time.
	run func(ctx context.Context, tx *sql.Tx, seq, now int64) (feed.Post, error)
}

// Result is the outcome of one Op: the post as committed, or why not.
type Result struct {
	Post feed.Post
	Err  error
}

// CreateOp creates a new post. An empty author becomes the node's name.
func CreateOp(in feed.NewPost) Op {
	return Op{name: "create post", invalid: in.Normalize(),
		run: func(ctx context.Context, tx *sql.Tx, seq, now int64) (feed.Post, error) {
			if in.Author == "" {
				if err := tx.QueryRowContext(ctx, `SELECT name FROM node`).Scan(&in.Author); err != nil {
					return feed.Post{}, err
				}
			}
			p := feed.Post{
				ID: feed.NewID(), Title: in.Title, Body: in.Body, Author: in.Author,
				CreatedAt: feed.UnixMilli(now), UpdatedAt: feed.UnixMilli(now), Version: 1, Seq: seq,
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO posts (`+postColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)`,
				p.ID, p.Title, p.Body, p.Author, now, now, p.Version, seq)
			return p, err
		}}
}

// UpdateOp applies patch to post id if patch.Version is its current version;
// otherwise the op fails with a conflict error carrying the current post.
func UpdateOp(id string, patch feed.PostPatch) Op {
	return Op{name: "update post", invalid: patch.Normalize(),
		run: func(ctx context.Context, tx *sql.Tx, seq, now int64) (feed.Post, error) {
			p, err := liveForWrite(ctx, tx, id, patch.Version)
			if err != nil {
				return p, err
			}
			if patch.Title != nil {
				p.Title = *patch.Title
			}
			if patch.Body != nil {
				p.Body = *patch.Body
			}
			return p, saveChange(ctx, tx, &p, seq, now)
		}}
}

// DeleteOp turns post id into a tombstone: title and body are erased,
// Deleted is set, and the change gets a seq like any other. version 0
// deletes whatever the current version is; any other value must match it.
func DeleteOp(id string, version int64) Op {
	op := Op{name: "delete post",
		run: func(ctx context.Context, tx *sql.Tx, seq, now int64) (feed.Post, error) {
			p, err := liveForWrite(ctx, tx, id, version)
			if err != nil {
				return p, err
			}
			p.Title, p.Body, p.Deleted = "", "", true
			return p, saveChange(ctx, tx, &p, seq, now)
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
// not found, conflict) is rolled back to its savepoint, leaves no trace and
// takes no seq; the others get consecutive seqs in the order given. If the
// transaction cannot commit, every op fails with that error and the seq
// counter does not move. Results are in the order of ops.
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
	seq := s.seq
	single := len(todo) == 1 // one op needs no savepoint: the transaction is its own
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, i := range todo {
			p, err := s.runOp(ctx, tx, ops[i], seq+1, single)
			if err != nil {
				if single || errors.Is(err, errTxBroken) {
					return err
				}
				results[i].Err = wrap(ops[i].name, err)
				continue
			}
			seq++
			results[i].Post = p
		}
		return nil
	})
	if err != nil {
		for _, i := range todo {
			results[i] = Result{Err: wrap(ops[i].name, err)}
		}
		return results
	}
	s.seq = seq
	return results
}

// errTxBroken marks a savepoint that could not be rolled back: the whole
// transaction must go.
var errTxBroken = errors.New("store: savepoint rollback failed")

// runOp runs one op of a batch inside its own savepoint.
func (s *Store) runOp(ctx context.Context, tx *sql.Tx, op Op, seq int64, single bool) (feed.Post, error) {
	now := s.now().UnixMilli()
	if single {
		return op.run(ctx, tx, seq, now)
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT op`); err != nil {
		return feed.Post{}, fmt.Errorf("%w: %w", errTxBroken, err)
	}
	p, err := op.run(ctx, tx, seq, now)
	if err != nil {
		if _, rbErr := tx.ExecContext(ctx, `ROLLBACK TO op; RELEASE op`); rbErr != nil {
			return feed.Post{}, fmt.Errorf("%w: %w (after %w)", errTxBroken, rbErr, err)
		}
		return feed.Post{}, err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE op`); err != nil {
		return feed.Post{}, fmt.Errorf("%w: %w", errTxBroken, err)
	}
	return p, nil
}

// liveForWrite loads a post that is about to change and checks its version
// (0 skips the check).
func liveForWrite(ctx context.Context, tx *sql.Tx, id string, version int64) (feed.Post, error) {
	p, err := scanPost(tx.QueryRowContext(ctx, `SELECT `+postColumns+` FROM posts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && p.Deleted) {
		return p, notFound(id)
	}
	if err != nil {
		return p, err
	}
	if version != 0 && version != p.Version {
		current := p
		return p, &feed.Error{Code: feed.CodeConflict, Post: &current,
			Message: fmt.Sprintf("post was changed meanwhile: you edited version %d, the current version is %d", version, p.Version)}
	}
	return p, nil
}

// saveChange writes p back as its next version with the given seq.
func saveChange(ctx context.Context, tx *sql.Tx, p *feed.Post, seq, now int64) error {
	if now < p.UpdatedAt.UnixMilli() { // a clock stepping back never makes updatedAt go back
		now = p.UpdatedAt.UnixMilli()
	}
	p.Version++
	p.Seq = seq
	p.UpdatedAt = feed.UnixMilli(now)
	_, err := tx.ExecContext(ctx,
		`UPDATE posts SET title = ?, body = ?, updated_at = ?, version = ?, deleted = ?, seq = ? WHERE id = ?`,
		p.Title, p.Body, now, p.Version, p.Deleted, seq, p.ID)
	return err
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

// List returns up to limit live posts, newest createdAt first and, for equal
// times, greatest id first, starting after cursor before ("" for the top).
func (s *Store) List(ctx context.Context, before string, limit int) (feed.Page, error) {
	if limit < feed.MinLimit || limit > feed.MaxLimit {
		return feed.Page{}, feed.Invalid("limit", fmt.Sprintf("limit must be between %d and %d", feed.MinLimit, feed.MaxLimit))
	}
	query := `SELECT ` + postColumns + ` FROM posts WHERE deleted = 0`
	args := []any{}
	if before != "" {
		ms, id, err := parseCursor(before)
		if err != nil {
			return feed.Page{}, err
		}
		query += ` AND (created_at, id) < (?, ?)`
		args = append(args, ms, id)
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit+1)
	// One read transaction: the seq and the posts come from the same snapshot.
	var page feed.Page
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM posts`).Scan(&page.Seq); err != nil {
			return err
		}
		var err error
		page.Posts, err = queryPosts(ctx, tx, query, args...)
		return err
	})
	if err != nil {
		return feed.Page{}, fmt.Errorf("store: list posts: %w", err)
	}
	posts := page.Posts
	if len(posts) > limit {
		page.Posts = posts[:limit]
		last := page.Posts[limit-1]
		page.Next = makeCursor(last.CreatedAt.UnixMilli(), last.ID)
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

func scanPost(row scanner) (feed.Post, error) {
	var p feed.Post
	var created, updated int64
	err := row.Scan(&p.ID, &p.Title, &p.Body, &p.Author, &created, &updated, &p.Version, &p.Deleted, &p.Seq)
	p.CreatedAt, p.UpdatedAt = feed.UnixMilli(created), feed.UnixMilli(updated)
	return p, err
}

// A cursor is opaque to clients: base64url of "<createdAt ms>.<id>".
func makeCursor(ms int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(ms, 10) + "." + id))
}

func parseCursor(c string) (int64, string, error) {
	bad := feed.Invalid("before", "before is not a cursor this node returned")
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
