package store

import (
	"testing"
	"time"

	"lanfeed/feed"
)

// The writer connection keeps savepoint journals in memory: a batch of
// ops, each in its own savepoint, would otherwise write a temporary file.
func TestOpen_WriterKeepsTempStoreInMemory(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir(), Options{Name: "stmts"})
	if err != nil {
		t.Fatalf("Open() = %v; want nil error", err)
	}
	defer s.Close()
	var mode int
	if err := s.w.QueryRowContext(t.Context(), `PRAGMA temp_store`).Scan(&mode); err != nil {
		t.Fatalf("PRAGMA temp_store: %v", err)
	}
	if mode != 2 {
		t.Errorf("PRAGMA temp_store = %d; want 2 (MEMORY)", mode)
	}
	for _, q := range []string{qSavepoint, qRelease, qLoadRow, qPutRow, qFollowed, qInsertNew} {
		if s.stmts[q] == nil {
			t.Errorf("statement %.30q not prepared at Open", q)
		}
	}
}

// The prepared statements keep working across batches whose ops fail (a
// savepoint rolled back) and a batch that cannot commit (the whole
// transaction rolled back): every later batch commits what it should.
func TestApply_PreparedStatementsSurviveRollbacks(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir(), Options{Name: "stmts"})
	if err != nil {
		t.Fatalf("Open() = %v; want nil error", err)
	}
	defer s.Close()
	const node = "01a234c9-0b4c-7c10-864b-ef7dadeb95cd"
	if _, err := s.AddFollow(ctx, "http://127.0.0.1:1/", node, "origin"); err != nil {
		t.Fatalf("AddFollow() = %v; want nil error", err)
	}
	own, err := s.Create(ctx, feed.NewPost{Title: "mine", Body: "b", Author: "me"})
	if err != nil {
		t.Fatalf("Create() = %v; want nil error", err)
	}
	at := feed.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())
	replica := func(id, title string, version int64) Op {
		return ReplicaOp(node, feed.Post{ID: id, Title: title, Body: "b", Author: "a", Origin: node,
			CreatedAt: at, UpdatedAt: at, Version: version})
	}
	a, b := feed.NewID(), feed.NewID()
	res := s.Apply(ctx, []Op{
		replica(a, "a1", 1),
		replica(own.ID, "not yours", 1), // read_only: rolled back to its savepoint
		replica(b, "b1", 1),
	})
	if res[0].Err != nil || res[1].Err == nil || res[2].Err != nil {
		t.Fatalf("Apply(ok, foreign id, ok) = %v, %v, %v; want nil, read_only, nil", res[0].Err, res[1].Err, res[2].Err)
	}
	if res := s.Apply(ctx, []Op{replica(a, "a2", 2), FailCommitOp()}); res[0].Err == nil {
		t.Fatalf("Apply(update, fail commit)[0] = nil error; want the commit's error")
	}
	res = s.Apply(ctx, []Op{replica(a, "a3", 3), replica(b, "b1 again", 1), PositionOp(node, "e1", 3)})
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("Apply(after rollbacks)[%d] = %v; want nil error", i, r.Err)
		}
	}
	if !res[1].Unchanged {
		t.Errorf("Apply(same version again).Unchanged = false; want true")
	}
	for id, want := range map[string]string{a: "a3", b: "b1", own.ID: "mine"} {
		p, err := s.Get(ctx, id)
		if err != nil || p.Title != want {
			t.Errorf("Get(%s) = %q, %v; want %q", id, p.Title, err, want)
		}
	}
	if got := s.Seq(); got != 4 { // own create, a1, b1, a3
		t.Errorf("Seq() = %d; want 4", got)
	}
}

// A batch looks each followed node up once, and a node it does not follow
// is still refused after one it does.
func TestApply_UnfollowedNodeRefusedAfterAFollowedOne(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir(), Options{Name: "stmts"})
	if err != nil {
		t.Fatalf("Open() = %v; want nil error", err)
	}
	defer s.Close()
	const node, stranger = "01a234c9-0b4c-7c10-864b-ef7dadeb95cd", "01a234c9-0b4c-7c10-864b-ef7dadeb95ce"
	if _, err := s.AddFollow(ctx, "http://127.0.0.1:1/", node, "origin"); err != nil {
		t.Fatalf("AddFollow() = %v; want nil error", err)
	}
	at := feed.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())
	replica := func(from string) Op {
		return ReplicaOp(from, feed.Post{ID: feed.NewID(), Title: "t", Body: "b", Author: "a", Origin: from,
			CreatedAt: at, UpdatedAt: at, Version: 1})
	}
	res := s.Apply(ctx, []Op{replica(node), replica(stranger), replica(node)})
	if res[0].Err != nil || res[2].Err != nil {
		t.Fatalf("Apply(followed, stranger, followed) = %v, _, %v; want nil errors for the followed node", res[0].Err, res[2].Err)
	}
	if res[1].Err == nil {
		t.Errorf("Apply(stranger) = nil error; want not following")
	}
	if got := s.Seq(); got != 2 {
		t.Errorf("Seq() = %d; want 2", got)
	}
}
