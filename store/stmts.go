package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The statements the ops of a batch run, prepared once on the writer
// connection: SQLite would otherwise parse and plan each one again for
// every op (about 40% of a follower's CPU in a catch-up, bench/ANALYSIS.md).
const (
	qSavepoint = `SAVEPOINT op`
	qRelease   = `RELEASE op`
	qLoadRow   = `SELECT ` + rowColumns + ` FROM posts WHERE id = ?`
	qPutRow    = `INSERT INTO posts (` + rowColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body, author = excluded.author,
			origin = excluded.origin, created_at = excluded.created_at, updated_at = excluded.updated_at,
			version = excluded.version, deleted = excluded.deleted, seq = excluded.seq,
			origin_version = excluded.origin_version, dropped = excluded.dropped`
	qFollowed = `SELECT 1 FROM follows WHERE node = ?`
	// qInsertNew inserts a post unless one with its id exists; a clash on
	// any other constraint (seq) is still an error.
	qInsertNew = `INSERT INTO posts (` + rowColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`
)

// writeStmts are the prepared statements of the write path, by query.
type writeStmts map[string]*sql.Stmt

// prepareWrites prepares the write path's statements on w, the writer pool
// of one connection, outside any transaction (inside one, the pool would
// have no connection to prepare on).
func prepareWrites(ctx context.Context, w *sql.DB) (writeStmts, error) {
	ws := writeStmts{}
	for _, q := range []string{qSavepoint, qRelease, qLoadRow, qPutRow, qFollowed, qInsertNew} {
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			ws.close()
			return nil, fmt.Errorf("store: prepare %.40q: %w", q, err)
		}
		ws[q] = st
	}
	return ws, nil
}

func (ws writeStmts) close() error {
	var errs []error
	for _, st := range ws {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// stmt returns query bound to w's transaction: the statement prepared on
// the writer connection, which the transaction runs on, so that SQLite
// does not parse it again. A query not prepared in advance is prepared for
// this transaction only.
//
// Each query is bound once per transaction and kept in w.bound (binding
// makes a new sql.Stmt each time: a tenth of a replica's CPU when it was
// done for every statement); the transaction closes them when it ends.
func (w opTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := w.bound[query]; st != nil {
		return st, nil
	}
	var st *sql.Stmt
	if pre := w.stmts[query]; pre != nil {
		st = w.tx.StmtContext(ctx, pre)
	} else {
		var err error
		if st, err = w.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
	}
	if w.bound != nil {
		w.bound[query] = st
	}
	return st, nil
}

// exec runs query with args in w's transaction.
func (w opTx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := w.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// queryRow runs query with args in w's transaction; errors show at Scan.
func (w opTx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := w.stmt(ctx, query)
	if err != nil {
		return w.tx.QueryRowContext(ctx, query, args...) // reports the same error at Scan
	}
	return st.QueryRowContext(ctx, args...)
}
