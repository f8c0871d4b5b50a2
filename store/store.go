// Package store keeps lanfeed's posts, the node identity and the nodes it
// follows in one SQLite file.
//
// Guarantees:
//   - Durability: with the default synchronous=FULL, a write whose method has
//     returned is on disk and survives a crash or power loss.
//   - Ordering: writes go through one connection, one batch at a time. Every
//     committed change of a post takes the next value of a database-wide
//     sequence number (seq), so seq order is commit order, seq never goes
//     backwards and has no gaps: an op that changes no post takes none.
//   - Atomicity: a write that fails (bad input, conflict, full disk) leaves the
//     database and the seq counter as they were. Apply commits a batch of
//     writes in one transaction (one fsync for all: group commit); one
//     failing write does not take the others with it (the batch is then
//     run again, each write in its own savepoint).
//   - Ownership: every post has an origin, the node that owns it. Only this
//     node's own posts can be created, edited or deleted here; a replica of
//     another node's post changes only through ReplicaOp, from that node
//     (read_only otherwise), and no followed node can overwrite a post it
//     does not own.
//   - Replicas: an applied change of a followed node's post takes the next
//     local seq like any local write, so Changes hands it to this node's
//     clients. A copy no newer than the one held changes nothing.
//   - Positions: a follower's position in a followed node's log (epoch, seq)
//     is committed by PositionOp in the same transaction as the replicas
//     applied up to it, so after a crash the position and the replicas agree:
//     no change is lost or applied twice. A position never passes a change
//     of its batch that failed, never goes back within an epoch, and moves to
//     a new epoch only after the node's replicas were dropped (DropOps,
//     DropOrigin), which also makes delete events for this node's clients.
//
// Readers use a separate pool of read-only connections and never wait for
// writers (WAL). The package knows nothing of websockets or Wails.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database file's name inside the data directory.
const FileName = "lanfeed.db"

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrLocked is returned by Open when another process has the data directory
// open: two nodes on one database would hand out the same seq twice.
var ErrLocked = errors.New("store: the data directory is in use by another lanfeed process")

// LockName is the lock file's name inside the data directory.
const LockName = "lanfeed.lock"

// ErrTooNew is returned by Open for a database written by a newer lanfeed.
var ErrTooNew = errors.New("store: database was written by a newer version of lanfeed")

// Options tune Open. The zero value is what users get.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: "FULL" (default) makes every
	// commit durable; "NORMAL" may lose the last commits on power loss.
	Synchronous string
	// Name is the display name given to a new node; default: the host name.
	Name string
	// Now returns the current time; default time.Now. Tests set it.
	Now func() time.Time
}

// Store is an open lanfeed database. It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // exactly one connection: every write goes through it
	// stmts are the write path's statements, prepared on w's connection.
	stmts writeStmts
	r     *sql.DB // read-only pool
	now   func() time.Time
	lock  *os.File // held while open; see ErrLocked
	self  string   // this node's id: the origin of the posts it writes

	mu     sync.Mutex // serialises writes and guards seq and closed
	seq    int64      // seq of the last committed change
	closed bool       // w and r stay set after Close so late readers get an error, not a nil pointer
}

// Open opens (creating if needed) the database in dir, applies migrations and
// makes sure the node identity exists.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if strings.ContainsAny(dir, "?#") {
		return nil, fmt.Errorf("store: data directory %q must not contain '?' or '#'", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	switch opts.Synchronous = strings.ToUpper(opts.Synchronous); opts.Synchronous {
	case "":
		opts.Synchronous = "FULL"
	case "FULL", "NORMAL", "OFF":
	default:
		return nil, fmt.Errorf("store: synchronous must be FULL, NORMAL or OFF, not %q", opts.Synchronous)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s, err := open(ctx, dir, opts)
	if err != nil {
		lock.Close()
		return nil, err
	}
	s.lock = lock
	return s, nil
}

// lockDir holds the data directory for this process until the file closes.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, LockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: lock data directory: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, dir)
		}
		return nil, fmt.Errorf("store: lock data directory: %w", err)
	}
	return f, nil
}

func open(ctx context.Context, dir string, opts Options) (*Store, error) {
	path := filepath.Join(dir, FileName)
	// busy_timeout first so that every later pragma already honours it.
	// temp_store(MEMORY): each op of a batch runs in a savepoint, whose
	// statement journal would otherwise be a temporary file written on
	// every page an op first touches (a quarter of a catch-up's CPU in
	// write syscalls); it holds only what rolling back one op needs.
	pragmas := "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)" +
		"&_pragma=synchronous(" + opts.Synchronous + ")&_pragma=temp_store(MEMORY)"
	w, err := sql.Open("sqlite", path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	s := &Store{path: path, w: w, now: opts.Now}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s.r = r
	if err := s.initNode(ctx, opts.Name); err != nil {
		s.Close()
		return nil, err
	}
	if s.stmts, err = prepareWrites(ctx, w); err != nil {
		s.Close()
		return nil, err
	}
	err = w.QueryRowContext(ctx, `SELECT (SELECT id FROM node), (SELECT COALESCE(MAX(seq), 0) FROM posts)`).Scan(&s.self, &s.seq)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("store: read node id and seq: %w", err)
	}
	return s, nil
}

// Close closes the database. Calls after the first return nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.stmts.close(), s.w.Close())
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Seq returns the seq of the last committed change (0 for an empty database).
func (s *Store) Seq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// migrate applies the embedded migrations the database lacks, each in its own
// transaction together with the user_version bump.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("store: list migrations: %w", err)
	}
	sort.Strings(names)
	var version int
	if err := s.w.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if version > len(names) {
		return fmt.Errorf("%w (database version %d, this build knows up to %d): upgrade lanfeed or choose another --data-dir",
			ErrTooNew, version, len(names))
	}
	for i := version; i < len(names); i++ {
		src, err := migrationFS.ReadFile(names[i])
		if err != nil {
			return fmt.Errorf("store: read %s: %w", names[i], err)
		}
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(src)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", names[i], err)
		}
	}
	return nil
}

// inTx runs fn in a write transaction, committing if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed { // fn failed or panicked: the one writer connection must not stay in a transaction
			tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	committed = true
	return tx.Commit()
}

// inReadTx runs fn in a read-only transaction: one consistent snapshot.
func (s *Store) inReadTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}
