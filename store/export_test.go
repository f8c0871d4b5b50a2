package store

import (
	"context"

	"lanfeed/feed"
)

// DropBatch is DropOrigin's bound on one transaction, for tests that span
// several.
const DropBatch = dropBatch

// FailCommitOp is an op that succeeds but leaves its batch unable to commit,
// as a full disk or an I/O error at COMMIT would: it plants a deferred
// foreign key violation, which SQLite checks only when the transaction
// commits.
func FailCommitOp() Op {
	return Op{name: "fail commit", run: func(ctx context.Context, w opTx) (feed.Post, bool, error) {
		_, err := w.tx.ExecContext(ctx, `
			CREATE TABLE fail_commit (n INTEGER REFERENCES node (singleton) DEFERRABLE INITIALLY DEFERRED);
			INSERT INTO fail_commit VALUES (2)`)
		return feed.Post{}, false, err
	}}
}

// CursorOf is the cursor of p's position in the feed, as List returns it.
var CursorOf = cursorOf
