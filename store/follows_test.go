package store_test

import (
	"strings"
	"testing"
	"time"

	"lanfeed/feed"
	"lanfeed/store"
)

func TestStore_AddFollow(t *testing.T) {
	s, c := newStore(t)
	bea := feed.NewID()
	f, err := s.AddFollow(t.Context(), "http://192.168.1.20:7700/", bea, "  Bea's laptop ")
	want := store.Follow{Node: bea, Name: "Bea's laptop", URL: "http://192.168.1.20:7700/", AddedAt: t0}
	if err != nil || f != want {
		t.Fatalf("AddFollow() = %+v, %v; want %+v", f, err, want)
	}
	apply(t, s, store.PositionOp(bea, "e", 12))

	// Seen again at another address under another name: one follow, moved,
	// its position and the time it was added kept.
	c.Add(time.Hour)
	f, err = s.AddFollow(t.Context(), "https://[fe80::1]:7700/", bea, "bea")
	want = store.Follow{Node: bea, Name: "bea", URL: "https://[fe80::1]:7700/", Epoch: "e", Seq: 12, AddedAt: t0}
	if err != nil || f != want {
		t.Fatalf("AddFollow() again = %+v, %v; want %+v", f, err, want)
	}
	cem := follow(t, s, "cem")
	all, err := s.Follows(t.Context())
	if err != nil || len(all) != 2 || all[0] != want || all[1].Node != cem {
		t.Fatalf("Follows() = %+v, %v; want bea then cem", all, err)
	}
}

func TestStore_AddFollow_Invalid(t *testing.T) {
	s, _ := newStore(t)
	self := mustNode(t, s).ID
	good := "http://192.168.1.20:7700/"
	tests := []struct {
		name, url, node, nodeName, field string
	}{
		{"ErrItself", good, self, "me", "node"},
		{"ErrNodeNotAnID", good, "bea", "bea", "node"},
		{"ErrNameEmpty", good, feed.NewID(), " ", "name"},
		{"ErrNameTooLong", good, feed.NewID(), strings.Repeat("n", feed.MaxName+1), "name"},
		{"ErrNameControl", good, feed.NewID(), "be\x1ba", "name"},
		{"ErrURLEmpty", "", feed.NewID(), "bea", "url"},
		{"ErrURLRelative", "/api", feed.NewID(), "bea", "url"},
		{"ErrURLScheme", "file:///etc/passwd", feed.NewID(), "bea", "url"},
		{"ErrURLNoHost", "http://", feed.NewID(), "bea", "url"},
		{"ErrURLUserInfo", "http://me:secret@192.168.1.20:7700/", feed.NewID(), "bea", "url"},
		{"ErrURLTooLong", good + strings.Repeat("x", 2048), feed.NewID(), "bea", "url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AddFollow(t.Context(), tt.url, tt.node, tt.nodeName)
			wantCode(t, "AddFollow()", err, feed.CodeInvalid, tt.field)
			if all, err := s.Follows(t.Context()); err != nil || len(all) != 0 {
				t.Fatalf("Follows() after a refused AddFollow = %+v, %v; want none", all, err)
			}
		})
	}
}

func TestStore_RemoveFollow(t *testing.T) {
	s, _ := newStore(t)
	bea := follow(t, s, "bea")
	p := apply(t, s, store.ReplicaOp(bea, remotePost(bea, "kept")))[0].Post
	if err := s.RemoveFollow(t.Context(), bea); err != nil {
		t.Fatalf("RemoveFollow() = %v; want nil", err)
	}
	_, err := s.Follow(t.Context(), bea)
	wantCode(t, "Follow() after RemoveFollow", err, feed.CodeNotFound, "")
	wantCode(t, "RemoveFollow() again", s.RemoveFollow(t.Context(), bea), feed.CodeNotFound, "")

	// Its replicas stay until dropped, and no more of its changes apply.
	if got := mustGet(t, s, p.ID); got != p {
		t.Fatalf("Get() after RemoveFollow = %+v; want %+v", got, p)
	}
	res := s.Apply(t.Context(), []store.Op{store.ReplicaOp(bea, edited(p, "late")), store.PositionOp(bea, "e", 2)})
	wantCode(t, "ReplicaOp() from an unfollowed node", res[0].Err, feed.CodeNotFound, "")
	if res[1].Err == nil {
		t.Fatalf("PositionOp() for an unfollowed node = nil error; want an error")
	}
	if n, err := s.DropOrigin(t.Context(), bea); err != nil || n != 1 {
		t.Fatalf("DropOrigin() after RemoveFollow = %d, %v; want 1, nil", n, err)
	}
}
