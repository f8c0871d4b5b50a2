package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"lanfeed/feed"
	"lanfeed/store"

	_ "modernc.org/sqlite" // the same driver the store uses, for looking at the file directly
)

// clock is a settable Options.Now, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// t0 is the fixed time most tests start at.
var t0 = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

// openStore opens the store in dir and closes it when the test ends.
func openStore(t testing.TB, dir string, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), dir, opts)
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil error", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	})
	return s
}

// newStore opens a fresh store named "test-node" whose clock the test controls.
func newStore(t testing.TB) (*store.Store, *clock) {
	t.Helper()
	c := newClock(t0)
	return openStore(t, t.TempDir(), store.Options{Name: "test-node", Now: c.Now}), c
}

// rawDB opens the database file with database/sql, bypassing the store.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql.Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// wantCode fails unless err is an *feed.Error with code and, if field is not
// empty, that field. It returns the *feed.Error.
func wantCode(t *testing.T, call string, err error, code, field string) *feed.Error {
	t.Helper()
	var e *feed.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s = %v (%T); want *feed.Error with code %q", call, err, err, code)
	}
	if e.Code != code || e.Field != field {
		t.Fatalf("%s = code %q, field %q (%v); want code %q, field %q", call, e.Code, e.Field, e, code, field)
	}
	return e
}

// migrationCount is the number of migration files this build embeds.
func migrationCount(t *testing.T) int {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(names) == 0 {
		t.Fatalf("Glob(migrations/*.sql) = %v, %v; want at least one file", names, err)
	}
	return len(names)
}

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatalf("PRAGMA user_version: %v", err)
	}
	return v
}

var (
	uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	hex32  = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

func TestOpen_MigratesEmptyDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data") // Open creates missing directories
	s := openStore(t, dir, store.Options{Name: "n"})
	if want := filepath.Join(dir, store.FileName); s.Path() != want {
		t.Fatalf("Path() = %q; want %q", s.Path(), want)
	}
	if got := s.Seq(); got != 0 {
		t.Fatalf("Seq() = %d; want 0 on a new database", got)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	db := rawDB(t, s.Path())
	if got, want := userVersion(t, db), migrationCount(t); got != want {
		t.Fatalf("user_version = %d; want %d (the number of migrations)", got, want)
	}
	for _, obj := range []struct{ typ, name string }{
		{"table", "node"}, {"table", "posts"}, {"index", "posts_seq"}, {"index", "posts_feed"},
		{"index", "posts_origin"}, {"table", "follows"}, {"table", "settings"}, {"table", "declined"},
	} {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = ? AND name = ?`, obj.typ, obj.name).Scan(&n)
		if err != nil || n != 1 {
			t.Fatalf("%s %s: count = %d, %v; want 1", obj.typ, obj.name, n, err)
		}
	}
	var nodes int
	if err := db.QueryRow(`SELECT count(*) FROM node`).Scan(&nodes); err != nil || nodes != 1 {
		t.Fatalf("SELECT count(*) FROM node = %d, %v; want 1", nodes, err)
	}
	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("data directory mode = %v, %v; want 0700", info.Mode().Perm(), err)
	}
}

// TestOpen_MigratesVersion1Database upgrades a database that only
// migration 0001 made, with a node and posts in it, as a lanfeed from
// before origins left it.
func TestOpen_MigratesVersion1Database(t *testing.T) {
	dir := t.TempDir()
	db := rawDB(t, filepath.Join(dir, store.FileName))
	schema, err := os.ReadFile(filepath.Join("migrations", "0001_init.sql"))
	if err != nil {
		t.Fatalf("read 0001: %v", err)
	}
	const node = "0190a000-0000-7000-8000-0000000000aa"
	ms := t0.UnixMilli()
	for _, q := range []string{
		string(schema),
		`PRAGMA user_version = 1`,
		fmt.Sprintf(`INSERT INTO node VALUES (1, '%s', 'old-node', 'epoch-1', 'token-1', %d)`, node, ms),
		fmt.Sprintf(`INSERT INTO posts VALUES ('0190a000-0000-7000-8000-000000000001', 'first', 'b1', 'ann', %d, %d, 1, 0, 1)`, ms, ms),
		fmt.Sprintf(`INSERT INTO posts VALUES ('0190a000-0000-7000-8000-000000000002', '', '', 'ann', %d, %d, 2, 1, 3)`, ms+1, ms+5),
		fmt.Sprintf(`INSERT INTO posts VALUES ('0190a000-0000-7000-8000-000000000003', 'third', 'b3', 'bob', %d, %d, 3, 0, 5)`, ms+2, ms+9),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("building a version 1 database: %s: %v", q, err)
		}
	}
	before := map[string]feed.Post{}
	rows, err := db.Query(`SELECT id, title, version, deleted, seq FROM posts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p feed.Post
		if err := rows.Scan(&p.ID, &p.Title, &p.Version, &p.Deleted, &p.Seq); err != nil {
			t.Fatal(err)
		}
		before[p.ID] = p
	}
	rows.Close()
	db.Close()

	s := openStore(t, dir, store.Options{Now: newClock(t0).Now})
	if n := mustNode(t, s); n.ID != node || n.Name != "old-node" || n.Epoch != "epoch-1" {
		t.Fatalf("Node() after the upgrade = %+v; want the old identity", n)
	}
	if s.Seq() != 5 {
		t.Fatalf("Seq() after the upgrade = %d; want 5", s.Seq())
	}
	changes := allChanges(t, s)
	if len(changes) != len(before) {
		t.Fatalf("Changes(0) after the upgrade = %d posts; want %d", len(changes), len(before))
	}
	for _, p := range changes {
		b := before[p.ID]
		if p.Origin != node || p.Title != b.Title || p.Version != b.Version || p.Deleted != b.Deleted || p.Seq != b.Seq {
			t.Errorf("post after the upgrade = %+v; want %+v with origin %s (this node)", p, b, node)
		}
	}
	// The posts are this node's own: they can still be edited.
	third := mustUpdate(t, s, "0190a000-0000-7000-8000-000000000003", feed.PostPatch{Version: 3, Title: ptr("3rd")})
	if third.Version != 4 || third.Seq != 6 || third.Origin != node {
		t.Fatalf("Update() after the upgrade = %+v; want version 4, seq 6, origin %s", third, node)
	}
	if p := mustCreate(t, s, feed.NewPost{Title: "new"}); p.Seq != 7 || p.Origin != node {
		t.Fatalf("Create() after the upgrade = %+v; want seq 7, origin %s", p, node)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if v := userVersion(t, rawDB(t, s.Path())); v != migrationCount(t) {
		t.Fatalf("user_version after the upgrade = %d; want %d", v, migrationCount(t))
	}
}

func TestOpen_ReopenKeepsDataAndIdentity(t *testing.T) {
	dir := t.TempDir()
	c := newClock(t0)
	s := openStore(t, dir, store.Options{Name: "first", Now: c.Now})
	a := mustCreate(t, s, feed.NewPost{Title: "a", Body: "body a"})
	b := mustCreate(t, s, feed.NewPost{Title: "b"})
	a, err := s.Update(t.Context(), a.ID, feed.PostPatch{Version: 1, Title: ptr("a2")})
	if err != nil {
		t.Fatalf("Update() = %v", err)
	}
	b, err = s.Delete(t.Context(), b.ID, 0)
	if err != nil {
		t.Fatalf("Delete() = %v", err)
	}
	before := mustNode(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	s = openStore(t, dir, store.Options{Now: c.Now}) // no name: keep the stored one
	if got := mustNode(t, s); got != before {
		t.Fatalf("Node() after reopen = %+v; want %+v", got, before)
	}
	if got := s.Seq(); got != 4 {
		t.Fatalf("Seq() after reopen = %d; want 4", got)
	}
	if got, err := s.Get(t.Context(), a.ID); err != nil || got != a {
		t.Fatalf("Get() after reopen = %+v, %v; want %+v", got, err, a)
	}
	changes, err := s.Changes(t.Context(), 0, 10)
	if err != nil || len(changes) != 2 || changes[0] != a || changes[1] != b {
		t.Fatalf("Changes(0) after reopen = %+v, %v; want [%+v %+v]", changes, err, a, b)
	}
	c2 := mustCreate(t, s, feed.NewPost{Title: "c"})
	if c2.Seq != 5 {
		t.Fatalf("Create() after reopen seq = %d; want 5 (seq continues)", c2.Seq)
	}
	if c2.Author != "first" {
		t.Fatalf("Create() after reopen author = %q; want the stored node name %q", c2.Author, "first")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	s = openStore(t, dir, store.Options{Name: "  renamed  "})
	got := mustNode(t, s)
	want := before
	want.Name = "renamed"
	if got != want {
		t.Fatalf("Node() after Open with Name = %+v; want %+v", got, want)
	}
	if s.Seq() != 5 {
		t.Fatalf("Seq() after second reopen = %d; want 5", s.Seq())
	}
}

func TestOpen_NewNodeIdentity(t *testing.T) {
	s := openStore(t, t.TempDir(), store.Options{Name: "kitchen"})
	n := mustNode(t, s)
	if n.Name != "kitchen" {
		t.Fatalf("Node().Name = %q; want %q", n.Name, "kitchen")
	}
	if !uuidV7.MatchString(n.ID) {
		t.Fatalf("Node().ID = %q; want a UUIDv7", n.ID)
	}
	if !hex32.MatchString(n.Epoch) || !hex32.MatchString(n.Token) || n.Epoch == n.Token {
		t.Fatalf("Node() epoch, token = %q, %q; want two different 32-hex-char values", n.Epoch, n.Token)
	}

	other := mustNode(t, openStore(t, t.TempDir(), store.Options{Name: "kitchen"}))
	if other.ID == n.ID || other.Epoch == n.Epoch || other.Token == n.Token {
		t.Fatalf("two new databases share identity: %+v and %+v", n, other)
	}
}

func TestOpen_DefaultName(t *testing.T) {
	s := openStore(t, t.TempDir(), store.Options{})
	n := mustNode(t, s)
	want := "lanfeed"
	if h, err := os.Hostname(); err == nil && feed.CheckName("name", strings.TrimSpace(h)) == nil {
		want = strings.TrimSpace(h)
	}
	if n.Name != want {
		t.Fatalf("Node().Name = %q; want %q (host name or lanfeed)", n.Name, want)
	}
}

func TestOpen_Errors(t *testing.T) {
	t.Run("ErrInvalidName", func(t *testing.T) {
		for _, name := range []string{strings.Repeat("x", 65), "a\x00b", "\xff"} {
			s, err := store.Open(t.Context(), t.TempDir(), store.Options{Name: name})
			if err == nil {
				s.Close()
			}
			wantCode(t, "Open(Name: "+name+")", err, feed.CodeInvalid, "name")
		}
	})
	t.Run("ErrDirWithQuery", func(t *testing.T) {
		for _, dir := range []string{filepath.Join(t.TempDir(), "a?mode=ro"), filepath.Join(t.TempDir(), "b#c")} {
			s, err := store.Open(t.Context(), dir, store.Options{})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) = nil error; want an error", dir)
			}
			if _, statErr := os.Stat(dir); !errors.Is(statErr, os.ErrNotExist) {
				t.Fatalf("Open(%q) created the directory (stat = %v); want nothing created", dir, statErr)
			}
		}
	})
}

func TestOpen_ErrTooNew(t *testing.T) {
	tests := []struct {
		name     string
		existing bool // a database the store made, then bumped by a "newer build"
	}{
		{"EmptyFile", false},
		{"ExistingData", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, store.FileName)
			if tt.existing {
				s := openStore(t, dir, store.Options{Name: "n"})
				mustCreate(t, s, feed.NewPost{Title: "keep me"})
				if err := s.Close(); err != nil {
					t.Fatalf("Close() = %v", err)
				}
			}
			db := rawDB(t, path)
			if _, err := db.Exec(`PRAGMA user_version = 99`); err != nil {
				t.Fatalf("PRAGMA user_version = 99: %v", err)
			}
			db.Close()

			s, err := store.Open(t.Context(), dir, store.Options{Name: "n"})
			if err == nil {
				s.Close()
				t.Fatalf("Open() = nil error; want ErrTooNew")
			}
			if !errors.Is(err, store.ErrTooNew) {
				t.Fatalf("Open() = %v; want errors.Is(err, ErrTooNew)", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "99") || !strings.Contains(msg, fmt.Sprintf("up to %d", migrationCount(t))) {
				t.Fatalf("Open() = %q; want a message naming database version 99 and this build's %d", msg, migrationCount(t))
			}

			db = rawDB(t, path)
			if v := userVersion(t, db); v != 99 {
				t.Fatalf("user_version after refused Open = %d; want 99 (untouched)", v)
			}
			var tables int
			if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table'`).Scan(&tables); err != nil {
				t.Fatalf("count tables: %v", err)
			}
			want := 0
			if tt.existing {
				want = 5 // node, posts, follows, settings, declined
			}
			if tables != want {
				t.Fatalf("tables after refused Open = %d; want %d (nothing written)", tables, want)
			}
		})
	}
}

func TestOpen_WAL(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, store.Options{Name: "n"})
	mustCreate(t, s, feed.NewPost{Title: "t"})
	if _, err := os.Stat(s.Path() + "-wal"); err != nil {
		t.Fatalf("stat %s-wal while open = %v; want the WAL file to exist", s.Path(), err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	var mode string
	if err := rawDB(t, s.Path()).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatalf("PRAGMA journal_mode: %v", err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode = %q; want %q", mode, "wal")
	}
}

func TestOpen_SynchronousNormal(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, store.Options{Name: "n", Synchronous: "NORMAL"})
	p := mustCreate(t, s, feed.NewPost{Title: "t"})
	if got, err := s.Get(t.Context(), p.ID); err != nil || got != p {
		t.Fatalf("Get() = %+v, %v; want %+v", got, err, p)
	}
}

func TestStore_Close(t *testing.T) {
	s, _ := newStore(t)
	p := mustCreate(t, s, feed.NewPost{Title: "t"})
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close() = %v; want nil", err)
	}
	if _, err := s.Create(t.Context(), feed.NewPost{Title: "after close"}); err == nil {
		t.Fatalf("Create() after Close = nil error; want an error")
	}
	if _, err := s.Get(t.Context(), p.ID); err == nil {
		t.Fatalf("Get() after Close = nil error; want an error")
	}
	if _, err := s.List(t.Context(), feed.PageQuery{Limit: 10}); err == nil {
		t.Fatalf("List() after Close = nil error; want an error")
	}
	if _, err := s.Changes(t.Context(), 0, 10); err == nil {
		t.Fatalf("Changes() after Close = nil error; want an error")
	}
	if _, err := s.Node(t.Context()); err == nil {
		t.Fatalf("Node() after Close = nil error; want an error")
	}
	if err := s.SetName(t.Context(), "x"); err == nil {
		t.Fatalf("SetName() after Close = nil error; want an error")
	}
	if _, err := s.RotateToken(t.Context()); err == nil {
		t.Fatalf("RotateToken() after Close = nil error; want an error")
	}
	if s.Seq() != 1 {
		t.Fatalf("Seq() after Close = %d; want 1", s.Seq())
	}
}

func TestStore_Open_ErrLockedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, store.Options{})
	if _, err := store.Open(t.Context(), dir, store.Options{}); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open() = %v; want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	s2, err := store.Open(t.Context(), dir, store.Options{})
	if err != nil {
		t.Fatalf("Open() after Close = %v; want nil", err)
	}
	s2.Close()
}
