package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"lanfeed/feed"
	"lanfeed/store"
)

// follow makes s follow a new node named name and returns its id.
func follow(t *testing.T, s *store.Store, name string) string {
	t.Helper()
	node := feed.NewID()
	if _, err := s.AddFollow(t.Context(), "http://192.168.1.20:7700/", node, name); err != nil {
		t.Fatalf("AddFollow(%s) = %v; want nil error", name, err)
	}
	return node
}

// remotePost is version 1 of a post written on node origin an hour before t0.
func remotePost(origin, title string) feed.Post {
	at := feed.UnixMilli(t0.Add(-time.Hour).UnixMilli())
	return feed.Post{ID: feed.NewID(), Title: title, Body: "body of " + title, Author: "Bea", Origin: origin,
		CreatedAt: at, UpdatedAt: at, Version: 1, Seq: 77}
}

// edited is p as its origin changed it: the next version, an hour later.
func edited(p feed.Post, title string) feed.Post {
	p.Title, p.Version, p.Seq = title, p.Version+1, p.Seq+1
	p.UpdatedAt = feed.UnixMilli(p.UpdatedAt.Add(time.Hour).UnixMilli())
	return p
}

// deletedAt is p as its origin deleted it.
func deletedAt(p feed.Post) feed.Post {
	p = edited(p, "")
	p.Body, p.Deleted = "", true
	return p
}

// apply commits ops in one batch and fails the test on any error.
func apply(t *testing.T, s *store.Store, ops ...store.Op) []store.Result {
	t.Helper()
	res := s.Apply(t.Context(), ops)
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("Apply() op %d = %v; want nil error", i, r.Err)
		}
	}
	return res
}

// asStored is p as a follower stores it: the origin's post with a local seq.
func asStored(p feed.Post, seq int64) feed.Post {
	p.Seq = seq
	return p
}

func TestReplicaOp_AppliesTheOriginsChanges(t *testing.T) {
	s, _ := newStore(t)
	bea := follow(t, s, "Bea's laptop")
	mustCreate(t, s, feed.NewPost{Title: "mine"})
	p := remotePost(bea, "from Bea")

	got := apply(t, s, store.ReplicaOp(bea, p))[0]
	if want := asStored(p, 2); got.Post != want || got.Unchanged {
		t.Fatalf("ReplicaOp(new post) = %+v, unchanged %v; want %+v with the next local seq", got.Post, got.Unchanged, want)
	}
	if g := mustGet(t, s, p.ID); g != got.Post {
		t.Fatalf("Get() = %+v; want the replica %+v", g, got.Post)
	}

	p2 := edited(p, "from Bea, edited")
	if got := apply(t, s, store.ReplicaOp(bea, p2))[0]; got.Post != asStored(p2, 3) {
		t.Fatalf("ReplicaOp(newer version) = %+v; want %+v", got.Post, asStored(p2, 3))
	}
	p4 := deletedAt(edited(p2, "skipped a version"))
	if got := apply(t, s, store.ReplicaOp(bea, p4))[0]; got.Post != asStored(p4, 4) {
		t.Fatalf("ReplicaOp(tombstone two versions on) = %+v; want %+v", got.Post, asStored(p4, 4))
	}
	_, err := s.Get(t.Context(), p.ID)
	wantCode(t, "Get() of a replica its origin deleted", err, feed.CodeNotFound, "")
	page, err := s.List(t.Context(), feed.PageQuery{Limit: 10})
	if err != nil || len(page.Posts) != 1 || page.Posts[0].Title != "mine" || page.Seq != 4 {
		t.Fatalf("List() = %+v, %v; want only this node's post at seq 4", page, err)
	}
	if got := allChanges(t, s); len(got) != 2 || got[1] != asStored(p4, 4) {
		t.Fatalf("Changes(0) = %+v; want this node's post and the tombstone %+v", got, asStored(p4, 4))
	}
}

func TestReplicaOp_SkipsWhatIsNotNewer(t *testing.T) {
	tests := []struct {
		name string
		edit func(held feed.Post) feed.Post // what the origin sends again, given what is held (version 2)
	}{
		{"SkipEqualVersion", func(held feed.Post) feed.Post { held.Title = "same version, other text"; return held }},
		{"SkipOlderVersion", func(held feed.Post) feed.Post { held.Version, held.Title = 1, "old text"; return held }},
		{"SkipOlderTombstone", func(held feed.Post) feed.Post {
			held.Version, held.Title, held.Body, held.Deleted = 1, "", "", true
			return held
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			bea := follow(t, s, "bea")
			p := remotePost(bea, "v1")
			held := apply(t, s, store.ReplicaOp(bea, p), store.ReplicaOp(bea, edited(p, "v2")))[1].Post
			before := allChanges(t, s)

			got := apply(t, s, store.ReplicaOp(bea, tt.edit(held)))[0]
			if !got.Unchanged || got.Post != held {
				t.Fatalf("ReplicaOp() = %+v, unchanged %v; want unchanged, the held post %+v", got.Post, got.Unchanged, held)
			}
			wantUntouched(t, s, 2, before)
		})
	}
}

func TestReplicaOp_Refused(t *testing.T) {
	s, c := newStore(t)
	self := mustNode(t, s).ID
	bea := follow(t, s, "Bea's laptop")
	cem := follow(t, s, "cem")
	mine := mustCreate(t, s, feed.NewPost{Title: "mine"})
	beas := apply(t, s, store.ReplicaOp(bea, remotePost(bea, "Bea's")))[0].Post
	stranger := feed.NewID()

	tests := []struct {
		name        string
		from        string
		post        func() feed.Post
		code, field string
		says        []string // the message names these
	}{
		{"ErrTitleInvalid", bea, func() feed.Post { p := remotePost(bea, "x"); p.Title = "a\x00b"; return p }, feed.CodeInvalid, "title", nil},
		{"ErrTitleTooLong", bea, func() feed.Post { return remotePost(bea, strings.Repeat("x", feed.MaxTitle+1)) }, feed.CodeInvalid, "title", nil},
		{"ErrBodyTooLong", bea, func() feed.Post { p := remotePost(bea, "x"); p.Body = strings.Repeat("y", feed.MaxBody+1); return p }, feed.CodeInvalid, "body", nil},
		{"ErrAuthorMissing", bea, func() feed.Post { p := remotePost(bea, "x"); p.Author = ""; return p }, feed.CodeInvalid, "author", nil},
		{"ErrIDNotUUID", bea, func() feed.Post { p := remotePost(bea, "x"); p.ID = "'; DROP TABLE posts; --"; return p }, feed.CodeInvalid, "id", nil},
		{"ErrVersionZero", bea, func() feed.Post { p := remotePost(bea, "x"); p.Version = 0; return p }, feed.CodeInvalid, "version", nil},
		{"ErrUpdatedBeforeCreated", bea, func() feed.Post {
			p := remotePost(bea, "x")
			p.UpdatedAt = feed.UnixMilli(p.CreatedAt.UnixMilli() - 1)
			return p
		}, feed.CodeInvalid, "updatedAt", nil},
		{"ErrDatedDaysAhead", bea, func() feed.Post {
			p := remotePost(bea, "x")
			p.CreatedAt = feed.UnixMilli(c.Now().Add(49 * time.Hour).UnixMilli())
			p.UpdatedAt = p.CreatedAt
			return p
		}, feed.CodeInvalid, "updatedAt", []string{"ahead"}},
		{"ErrOriginIsAnotherNode", bea, func() feed.Post { return remotePost(cem, "relayed") }, feed.CodeInvalid, "origin", []string{bea, cem}},
		{"ErrOriginIsThisNode", bea, func() feed.Post { return remotePost(self, "forged") }, feed.CodeInvalid, "origin", []string{self}},
		{"ErrSenderIsThisNode", self, func() feed.Post { return remotePost(self, "echo") }, feed.CodeInvalid, "origin", []string{"this node"}},
		{"ErrSenderNotFollowed", stranger, func() feed.Post { return remotePost(stranger, "x") }, feed.CodeNotFound, "", []string{stranger}},
		{"ErrOverwritesThisNodesPost", bea, func() feed.Post {
			p := remotePost(bea, "hijack")
			p.ID, p.Version = mine.ID, 9
			return p
		}, feed.CodeReadOnly, "", []string{bea, mine.ID, "this node"}},
		{"ErrOverwritesAnotherNodesPost", cem, func() feed.Post {
			p := remotePost(cem, "hijack")
			p.ID, p.Version = beas.ID, 9
			return p
		}, feed.CodeReadOnly, "", []string{cem, beas.ID, "Bea's laptop", bea}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := allChanges(t, s)
			res := s.Apply(t.Context(), []store.Op{store.ReplicaOp(tt.from, tt.post())})
			e := wantCode(t, "ReplicaOp()", res[0].Err, tt.code, tt.field)
			for _, w := range tt.says {
				if !strings.Contains(e.Message, w) {
					t.Errorf("ReplicaOp() message %q; want it to name %q", e.Message, w)
				}
			}
			wantUntouched(t, s, 2, before)
		})
	}
}

func TestEdits_OfAReplicaAreRefusedNamingItsNode(t *testing.T) {
	s, _ := newStore(t)
	bea := follow(t, s, "Bea's laptop")
	p := apply(t, s, store.ReplicaOp(bea, remotePost(bea, "Bea's")))[0].Post
	before := allChanges(t, s)

	checks := []struct {
		name string
		do   func() error
	}{
		{"Update", func() error {
			_, err := s.Update(t.Context(), p.ID, feed.PostPatch{Version: p.Version, Title: ptr("mine now")})
			return err
		}},
		{"UpdateStaleVersion", func() error { // read only, not a conflict: no version would do
			_, err := s.Update(t.Context(), p.ID, feed.PostPatch{Version: 9, Title: ptr("mine now")})
			return err
		}},
		{"Delete", func() error { _, err := s.Delete(t.Context(), p.ID, 0); return err }},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			e := wantCode(t, c.name+"()", c.do(), feed.CodeReadOnly, "")
			for _, w := range []string{`"Bea's laptop"`, bea, "edit"} {
				if !strings.Contains(e.Message, w) {
					t.Errorf("%s() message %q; want it to name %s", c.name, e.Message, w)
				}
			}
			wantUntouched(t, s, 1, before)
		})
	}

	// Once unfollowed, the node's name is not known: its id still is.
	if err := s.RemoveFollow(t.Context(), bea); err != nil {
		t.Fatalf("RemoveFollow() = %v", err)
	}
	_, err := s.Delete(t.Context(), p.ID, 0)
	if e := wantCode(t, "Delete() after unfollow", err, feed.CodeReadOnly, ""); !strings.Contains(e.Message, bea) {
		t.Errorf("Delete() message %q; want it to name node %s", e.Message, bea)
	}
}

func TestApply_OpsThatChangeNothingTakeNoSeq(t *testing.T) {
	s, _ := newStore(t)
	bea := follow(t, s, "bea")
	held := apply(t, s, store.ReplicaOp(bea, remotePost(bea, "held")))[0].Post
	fresh := remotePost(bea, "fresh")

	res := apply(t, s,
		store.CreateOp(feed.NewPost{Title: "a"}),
		store.ReplicaOp(bea, held), // the same version again
		store.ReplicaOp(bea, fresh),
		store.PositionOp(bea, "e1", 2),
		store.CreateOp(feed.NewPost{Title: "b"}),
	)
	wantSeq := []int64{2, 0, 3, 0, 4}
	for i, r := range res {
		if changed := wantSeq[i] != 0; r.Unchanged == changed || (changed && r.Post.Seq != wantSeq[i]) {
			t.Errorf("op %d = seq %d, unchanged %v; want seq %d (0: unchanged)", i, r.Post.Seq, r.Unchanged, wantSeq[i])
		}
	}
	var seqs []int64
	for _, p := range allChanges(t, s) {
		seqs = append(seqs, p.Seq)
	}
	if want := []int64{1, 2, 3, 4}; !slices.Equal(seqs, want) || s.Seq() != 4 {
		t.Fatalf("seqs in the database = %v, Seq() = %d; want %v: no gap", seqs, s.Seq(), want)
	}
}

func TestPositionOp_CommitsWithTheChanges(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, store.Options{Name: "follower", Now: newClock(t0).Now})
	bea := follow(t, s, "bea")
	p, q := remotePost(bea, "p"), remotePost(bea, "q")

	res := apply(t, s, store.ReplicaOp(bea, p), store.ReplicaOp(bea, q), store.PositionOp(bea, "epoch-1", 41))
	if !res[2].Unchanged {
		t.Errorf("PositionOp result unchanged = false; want true: a position is no post change")
	}
	wantPosition(t, s, bea, "epoch-1", 41)
	if s.Seq() != 2 {
		t.Fatalf("Seq() = %d; want 2 (the position took none)", s.Seq())
	}

	// Durable: a reopened store has the position and the replicas.
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s = openStore(t, dir, store.Options{})
	wantPosition(t, s, bea, "epoch-1", 41)
	if got := mustGet(t, s, q.ID); got != asStored(q, 2) {
		t.Fatalf("Get() after reopen = %+v; want %+v", got, asStored(q, 2))
	}
}

func TestPositionOp_FailedCommitLeavesNeither(t *testing.T) {
	s, _ := newStore(t)
	bea := follow(t, s, "bea")
	apply(t, s, store.ReplicaOp(bea, remotePost(bea, "before")), store.PositionOp(bea, "e", 10))
	before := allChanges(t, s)
	p := remotePost(bea, "lost")

	res := s.Apply(t.Context(), []store.Op{store.ReplicaOp(bea, p), store.PositionOp(bea, "e", 11), store.FailCommitOp()})
	for i, r := range res {
		if r.Err == nil {
			t.Errorf("op %d of a batch that cannot commit = nil error; want the commit's error", i)
		}
	}
	wantPosition(t, s, bea, "e", 10)
	wantUntouched(t, s, 1, before)

	// The store goes on: the same changes commit in the next batch.
	res = apply(t, s, store.ReplicaOp(bea, p), store.PositionOp(bea, "e", 11))
	if res[0].Post.Seq != 2 {
		t.Fatalf("ReplicaOp() after the failed batch seq = %d; want 2 (no seq lost)", res[0].Post.Seq)
	}
	wantPosition(t, s, bea, "e", 11)
}

func TestPositionOp_NeverPassesAChangeThatFailed(t *testing.T) {
	s, _ := newStore(t)
	bea, cem := follow(t, s, "bea"), follow(t, s, "cem")
	bad := remotePost(bea, "bad")
	bad.Title = ""

	res := s.Apply(t.Context(), []store.Op{
		store.ReplicaOp(bea, remotePost(bea, "good")),
		store.ReplicaOp(bea, bad),
		store.ReplicaOp(cem, remotePost(cem, "cem's")),
		store.PositionOp(cem, "ec", 3), // cem's changes all applied
		store.PositionOp(bea, "eb", 3),
	})
	if res[3].Err != nil {
		t.Errorf("PositionOp(cem) = %v; want nil: bea's failure is not cem's", res[3].Err)
	}
	wantCode(t, "PositionOp(bea) after a failed change from bea", res[4].Err, feed.CodeInvalid, "")
	wantPosition(t, s, cem, "ec", 3)
	wantPosition(t, s, bea, "", 0)
}

func TestPositionOp_Errors(t *testing.T) {
	tests := []struct {
		name        string
		op          func(node string) store.Op
		code, field string
	}{
		{"ErrNotFollowed", func(string) store.Op { return store.PositionOp(feed.NewID(), "e", 1) }, feed.CodeNotFound, ""},
		{"ErrNodeNotAnID", func(string) store.Op { return store.PositionOp("node", "e", 1) }, feed.CodeInvalid, "node"},
		{"ErrEpochEmpty", func(n string) store.Op { return store.PositionOp(n, "", 1) }, feed.CodeInvalid, "epoch"},
		{"ErrEpochControl", func(n string) store.Op { return store.PositionOp(n, "e\n", 1) }, feed.CodeInvalid, "epoch"},
		{"ErrEpochTooLong", func(n string) store.Op { return store.PositionOp(n, strings.Repeat("e", 65), 1) }, feed.CodeInvalid, "epoch"},
		{"ErrSeqNegative", func(n string) store.Op { return store.PositionOp(n, "e", -1) }, feed.CodeInvalid, "seq"},
		{"ErrSeqGoesBack", func(n string) store.Op { return store.PositionOp(n, "e", 4) }, feed.CodeInvalid, "seq"},
		{"ErrNewEpochWithoutDrop", func(n string) store.Op { return store.PositionOp(n, "f", 100) }, feed.CodeInvalid, "epoch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			bea := follow(t, s, "bea")
			apply(t, s, store.PositionOp(bea, "e", 5))
			res := s.Apply(t.Context(), []store.Op{tt.op(bea)})
			wantCode(t, "PositionOp()", res[0].Err, tt.code, tt.field)
			wantPosition(t, s, bea, "e", 5)
		})
	}
}

// wantPosition fails unless s's position in node's log is (epoch, seq).
func wantPosition(t *testing.T, s *store.Store, node, epoch string, seq int64) {
	t.Helper()
	f, err := s.Follow(t.Context(), node)
	if err != nil || f.Epoch != epoch || f.Seq != seq {
		t.Fatalf("Follow(%s) = epoch %q seq %d, %v; want epoch %q seq %d", node, f.Epoch, f.Seq, err, epoch, seq)
	}
}

func TestDropOrigin_TombstonesWithNewSeqsAndRefollowBringsBack(t *testing.T) {
	s, c := newStore(t)
	bea, cem := follow(t, s, "bea"), follow(t, s, "cem")
	mine := mustCreate(t, s, feed.NewPost{Title: "mine"})
	live, gone := remotePost(bea, "live"), remotePost(bea, "gone")
	cems := remotePost(cem, "cem's")
	apply(t, s, store.ReplicaOp(bea, live), store.ReplicaOp(bea, gone), store.ReplicaOp(bea, deletedAt(gone)),
		store.ReplicaOp(cem, cems), store.PositionOp(bea, "eb", 9))
	// bea's live post is at seq 2 and gone's tombstone at 4; cem's is at 5.
	c.Add(time.Minute)

	n, err := s.DropOrigin(t.Context(), bea)
	if err != nil || n != 1 {
		t.Fatalf("DropOrigin(bea) = %d, %v; want 1 tombstone (the other post was deleted already)", n, err)
	}
	changes, err := s.Changes(t.Context(), 5, 10)
	if err != nil || len(changes) != 1 {
		t.Fatalf("Changes(5) after the drop = %+v, %v; want one delete", changes, err)
	}
	tomb := changes[0]
	if !tomb.Deleted || tomb.Seq != 6 || tomb.Title != "" || tomb.Body != "" || tomb.ID != live.ID ||
		tomb.Origin != bea || tomb.Version != live.Version+1 || feed.ActionOf(tomb) != feed.ActionDelete {
		t.Fatalf("drop tombstone = %+v; want %s deleted at seq 6, text erased, version %d (above the live one, so clients apply it)",
			tomb, live.ID, live.Version+1)
	}
	_, err = s.Get(t.Context(), live.ID)
	wantCode(t, "Get() of a dropped replica", err, feed.CodeNotFound, "")
	page, err := s.List(t.Context(), feed.PageQuery{Limit: 10})
	if err != nil || !slices.Equal(titles(page.Posts), []string{"mine", "cem's"}) {
		t.Fatalf("List() after the drop = %v, %v; want this node's and cem's posts", titles(page.Posts), err)
	}
	if got := mustGet(t, s, mine.ID); got != mine {
		t.Fatalf("Get(own post) = %+v; want it untouched %+v", got, mine)
	}
	wantPosition(t, s, bea, "", 0)

	// Following bea from the start again brings the post back, at the
	// version bea still has, above the tombstone's for clients.
	res := apply(t, s, store.ReplicaOp(bea, live), store.ReplicaOp(bea, deletedAt(gone)), store.PositionOp(bea, "eb", 9))
	back := res[0].Post
	if res[0].Unchanged || back.Seq != 7 || back.Title != "live" || back.Deleted || back.Version <= tomb.Version {
		t.Fatalf("ReplicaOp(same version) after the drop = %+v, unchanged %v; want it back at seq 7 with a version above %d",
			back, res[0].Unchanged, tomb.Version)
	}
	if res[1].Unchanged || !res[1].Post.Deleted {
		t.Fatalf("ReplicaOp(tombstone) after the drop = %+v, unchanged %v; want it applied again", res[1].Post, res[1].Unchanged)
	}
	if got := mustGet(t, s, live.ID); got != back {
		t.Fatalf("Get() after re-follow = %+v; want %+v", got, back)
	}
	// Later versions from the origin keep applying, versions still growing.
	next := apply(t, s, store.ReplicaOp(bea, edited(live, "edited after")))[0].Post
	if next.Title != "edited after" || next.Version <= back.Version {
		t.Fatalf("ReplicaOp(next version) = %+v; want applied with a version above %d", next, back.Version)
	}
	// The origin's copy of the old version is stale again.
	if r := apply(t, s, store.ReplicaOp(bea, live))[0]; !r.Unchanged {
		t.Fatalf("ReplicaOp(old version) = %+v; want unchanged", r.Post)
	}
}

func TestDropOrigin_InBoundedBatches(t *testing.T) {
	s, _ := newStore(t)
	bea := follow(t, s, "bea")
	total := store.DropBatch*2 + 7
	for done := 0; done < total; {
		var ops []store.Op
		for ; done < total && len(ops) < 256; done++ {
			ops = append(ops, store.ReplicaOp(bea, remotePost(bea, fmt.Sprint("post ", done))))
		}
		apply(t, s, ops...)
	}
	seq := s.Seq()

	ops, last, err := s.DropOps(t.Context(), bea, store.DropBatch)
	if err != nil || len(ops) != store.DropBatch || last {
		t.Fatalf("DropOps(limit %d) = %d ops, last %v, %v; want %d ops, not the last", store.DropBatch, len(ops), last, err, store.DropBatch)
	}
	n, err := s.DropOrigin(t.Context(), bea)
	if err != nil || n != total {
		t.Fatalf("DropOrigin() = %d, %v; want %d", n, err, total)
	}
	if s.Seq() != seq+int64(total) {
		t.Fatalf("Seq() = %d; want %d: one seq per tombstone", s.Seq(), seq+int64(total))
	}
	for _, p := range allChanges(t, s) {
		if !p.Deleted {
			t.Fatalf("post %s left live after DropOrigin", p.ID)
		}
	}
	if n, err := s.DropOrigin(t.Context(), bea); err != nil || n != 0 {
		t.Fatalf("second DropOrigin() = %d, %v; want 0, nil", n, err)
	}
}

func TestDropOps_Errors(t *testing.T) {
	s, _ := newStore(t)
	bea := follow(t, s, "bea")
	self := mustNode(t, s).ID

	_, _, err := s.DropOps(t.Context(), self, 10)
	wantCode(t, "DropOps(this node)", err, feed.CodeInvalid, "node")
	_, _, err = s.DropOps(t.Context(), "bea", 10)
	wantCode(t, "DropOps(not an id)", err, feed.CodeInvalid, "node")
	_, _, err = s.DropOps(t.Context(), bea, 0)
	wantCode(t, "DropOps(limit 0)", err, feed.CodeInvalid, "limit")
	if res := s.Apply(t.Context(), []store.Op{store.DropOp(self, mustCreate(t, s, feed.NewPost{Title: "t"}).ID)}); res[0].Err == nil {
		t.Fatalf("DropOp(own post) = nil error; want own posts never dropped")
	}

	// Replicas that arrive while a drop is under way keep the position.
	apply(t, s, store.ReplicaOp(bea, remotePost(bea, "a")), store.PositionOp(bea, "e", 1))
	ops, last, err := s.DropOps(t.Context(), bea, 10)
	if err != nil || !last {
		t.Fatalf("DropOps() = last %v, %v; want the last batch", last, err)
	}
	apply(t, s, store.ReplicaOp(bea, remotePost(bea, "late")))
	res := s.Apply(t.Context(), ops)
	if res[len(res)-1].Err == nil {
		t.Fatalf("position reset with a replica left = nil error; want an error")
	}
	wantPosition(t, s, bea, "e", 1)
}

// A change refused inside the transaction (not by its own check: only the
// database knows the post belongs to another node) ends the batch's first
// attempt, which has no savepoints, and rolls it back whole; the rerun,
// one savepoint per op, commits the others with gap-free seqs, stores
// nothing of the refused change and records no position past it.
func TestApply_ChangeRefusedInsideTheBatchFailsAlone(t *testing.T) {
	s, _ := newStore(t)
	bea, cem := follow(t, s, "bea"), follow(t, s, "cem")
	cems := apply(t, s, store.ReplicaOp(cem, remotePost(cem, "cem's")))[0].Post
	steal := remotePost(bea, "bea claims cem's post")
	steal.ID = cems.ID

	first, after := remotePost(bea, "first"), remotePost(cem, "after")
	res := s.Apply(t.Context(), []store.Op{
		store.ReplicaOp(bea, first),
		store.ReplicaOp(bea, steal),
		store.ReplicaOp(cem, after),
		store.PositionOp(cem, "ec", 5),
		store.PositionOp(bea, "eb", 5),
	})
	if res[0].Err != nil || res[0].Post.Seq != 2 || res[2].Err != nil || res[2].Post.Seq != 3 || res[3].Err != nil {
		t.Fatalf("Apply() = %+v; want the changes before and after the refused one at seqs 2 and 3, cem's position recorded", res)
	}
	wantCode(t, "ReplicaOp(bea, a post of cem's)", res[1].Err, feed.CodeReadOnly, "")
	wantCode(t, "PositionOp(bea) after a refused change from bea", res[4].Err, feed.CodeInvalid, "")
	wantPosition(t, s, cem, "ec", 5)
	wantPosition(t, s, bea, "", 0)
	if got := s.Seq(); got != 3 {
		t.Errorf("Seq() = %d; want 3", got)
	}
	for _, want := range []feed.Post{cems, asStored(first, 2), asStored(after, 3)} {
		if got, err := s.Get(t.Context(), want.ID); err != nil || got != want {
			t.Errorf("Get(%s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
	}
}
