package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/client"
	"lanfeed/feed"
	"lanfeed/internal/testnode"
	"lanfeed/store"

	"github.com/gorilla/websocket"
)

// TestSync_OriginSelfSkipsReplicas: a follower asking for this node's own
// posts (?origin=self) is replayed none of the replicas it holds, and its
// position after the replay is this node's seq all the same.
func TestSync_OriginSelfSkipsReplicas(t *testing.T) {
	srv := openServer(t)
	ctx := t.Context()
	other := feed.NewID()
	if _, err := srv.Store.AddFollow(ctx, "http://192.0.2.1:7700/", other, "other"); err != nil {
		t.Fatalf("AddFollow() = %v", err)
	}
	own, err := srv.Service.Create(ctx, feed.NewPost{Title: "mine", Author: "me"}, feed.Caller{})
	if err != nil {
		t.Fatalf("Create() = %v", err)
	}
	at := feed.UnixMilli(time.Now().Add(-time.Minute).UnixMilli())
	rp := feed.Post{ID: feed.NewID(), Title: "theirs", Author: "them", Origin: other, CreatedAt: at, UpdatedAt: at, Version: 1, Seq: 5}
	if res := srv.Store.Apply(ctx, []store.Op{store.ReplicaOp(other, rp)}); res[0].Err != nil {
		t.Fatalf("Apply(ReplicaOp) = %v", res[0].Err)
	}
	if got := srv.Store.Seq(); got != 2 {
		t.Fatalf("Seq() = %d; want 2", got)
	}

	dctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	c, err := client.Dial(dctx, client.Config{URL: srv.URLs()[0], NoPresence: true, OwnPostsOnly: true,
		Resume: &client.Position{}})
	if err != nil {
		t.Fatalf("Dial() = %v", err)
	}
	defer c.Close()
	ev := nextEvent(t, c)
	pe, ok := ev.(*client.PostEvent)
	if !ok || pe.Post.ID != own.ID {
		t.Fatalf("first event = %T %s; want the node's own post %s", ev, ev.Raw(), own.ID)
	}
	ev = nextEvent(t, c)
	if s, ok := ev.(*client.Synced); !ok || s.Seq != 2 {
		t.Fatalf("second event = %s; want synced at seq 2, the node's seq", ev.Raw())
	}
}

// openServer opens a node listening on loopback; it is closed when the
// test ends.
func openServer(t *testing.T) *app.Server {
	t.Helper()
	return openServerIn(t, t.TempDir(), "127.0.0.1:0")
}

func openServerIn(t *testing.T, dir, addr string) *app.Server {
	t.Helper()
	return testnode.Open(t, app.Config{DataDir: dir, Name: testName}, addr)
}

// TestWS_OriginParameter: origin takes self or all; anything else is
// refused at the handshake, so a typo is not read as "everything".
func TestWS_OriginParameter(t *testing.T) {
	srv := openServer(t)
	for _, tt := range []struct {
		value string
		want  int
	}{{"self", http.StatusSwitchingProtocols}, {"all", http.StatusSwitchingProtocols}, {"mine", http.StatusBadRequest}} {
		u := "ws" + strings.TrimPrefix(srv.URLs()[0], "http") + "ws?origin=" + tt.value
		c, resp, err := websocket.DefaultDialer.Dial(u, nil)
		if c != nil {
			c.Close()
		}
		if resp == nil || resp.StatusCode != tt.want {
			t.Errorf("GET /ws?origin=%s = %v, %v; want status %d", tt.value, resp, err, tt.want)
		}
	}
}

// TestService_ApplyBatch: a batch of replicas and a position commits as one
// write; each op that changed a post publishes one event, in seq order, and
// a copy no newer than the one held publishes nothing.
func TestService_ApplyBatch(t *testing.T) {
	sink := &recordingSink{}
	svc, st := newService(t, sink)
	ctx := t.Context()
	other := feed.NewID()
	if _, err := st.AddFollow(ctx, "http://192.0.2.1:7700/", other, "other"); err != nil {
		t.Fatal(err)
	}
	at := feed.UnixMilli(time.Now().Add(-time.Minute).UnixMilli())
	p1 := feed.Post{ID: feed.NewID(), Title: "one", Author: "o", Origin: other, CreatedAt: at, UpdatedAt: at, Version: 1, Seq: 3}
	p2 := p1
	p2.ID, p2.Title, p2.Seq = feed.NewID(), "two", 4
	res := svc.ApplyBatch(ctx, []store.Op{store.ReplicaOp(other, p1), store.ReplicaOp(other, p1),
		store.ReplicaOp(other, p2), store.PositionOp(other, "e1", 4)})
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("ApplyBatch()[%d] = %v; want nil error", i, r.Err)
		}
	}
	if !res[1].Unchanged {
		t.Errorf("ApplyBatch()[1] (the same copy again) = %+v; want unchanged", res[1])
	}
	evs := sink.Events()
	if len(evs) != 2 || evs[0].Post.ID != p1.ID || evs[0].Seq != 1 || evs[1].Post.ID != p2.ID || evs[1].Seq != 2 {
		t.Fatalf("published %+v; want p1 at seq 1, then p2 at seq 2", evs)
	}
	if row, _ := st.Follow(ctx, other); row.Epoch != "e1" || row.Seq != 4 {
		t.Fatalf("position = %s/%d; want e1/4", row.Epoch, row.Seq)
	}
}
