package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/client"
	"lanfeed/feed"
	"lanfeed/internal/testnode"

	"github.com/gorilla/websocket"
)

// openNode opens a node listening on loopback with quick follower
// backoff; it is closed when the test ends.
func openMeshNode(t *testing.T, dir, name string) *app.Server {
	t.Helper()
	return testnode.Open(t, app.Config{DataDir: dir, Name: name,
		Mesh: app.MeshConfig{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}}, "")
}

// watch connects a local client to srv that replays its log from since and
// then follows it live, as the window or a browser on that node would.
func watch(t *testing.T, srv *app.Server, since int64) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: srv.URLs()[0], NoPresence: true, Resume: &client.Position{Seq: since}})
	if err != nil {
		t.Fatalf("Dial(%s) = %v", srv.URLs()[0], err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitPost reads c's events until a post event matching want arrives, and
// returns it.
func waitPost(t *testing.T, c *client.Conn, what string, want func(*client.PostEvent) bool) *client.PostEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	for {
		ev, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: Next() = %v", what, err)
		}
		if pe, ok := ev.(*client.PostEvent); ok && want(pe) {
			return pe
		}
	}
}

// eventually polls cond until it holds, for states that no event announces.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, waitFor)
		}
		<-tick.C
	}
}

func follow(t *testing.T, from, to *app.Server) feed.FollowInfo {
	t.Helper()
	fi, err := from.Service.Follow(t.Context(), to.URLs()[0])
	if err != nil {
		t.Fatalf("Follow(%s) = %v; want nil error", to.URLs()[0], err)
	}
	if id := to.Service.Identity().ID; fi.Node != id {
		t.Fatalf("Follow() = %+v; want node %s", fi, id)
	}
	return fi
}

func followState(t *testing.T, srv *app.Server, node string) feed.FollowInfo {
	t.Helper()
	list, err := srv.Service.Follows(t.Context())
	if err != nil {
		t.Fatalf("Follows() = %v", err)
	}
	for _, fi := range list {
		if fi.Node == node {
			return fi
		}
	}
	return feed.FollowInfo{}
}

func create(t *testing.T, srv *app.Server, title string) feed.Post {
	t.Helper()
	p, err := srv.Service.Create(t.Context(), feed.NewPost{Title: title, Author: "test"}, feed.Caller{})
	if err != nil {
		t.Fatalf("Create(%q) = %v", title, err)
	}
	return p
}

func isPost(id, action string) func(*client.PostEvent) bool {
	return func(pe *client.PostEvent) bool { return pe.Post.ID == id && pe.Action == action }
}

// listAll returns srv's whole feed, newest first.
func listAll(t *testing.T, srv *app.Server) []feed.Post {
	t.Helper()
	page, err := srv.Service.List(t.Context(), feed.PageQuery{Limit: feed.MaxLimit})
	if err != nil {
		t.Fatalf("List() = %v", err)
	}
	return page.Posts
}

func TestMesh_FollowReplicatesAndUnfollowRemoves(t *testing.T) {
	a := openMeshNode(t, t.TempDir(), "alice")
	b := openMeshNode(t, t.TempDir(), "bea")
	bID := b.Service.Identity().ID
	early := create(t, b, "written before the follow")
	aw := watch(t, a, a.Store.Seq())

	follow(t, a, b)
	got := waitPost(t, aw, "the catch-up", isPost(early.ID, feed.ActionCreate))
	if got.Post.Origin != bID || got.Post.Title != early.Title {
		t.Fatalf("replica = %+v; want %+v with origin %s", got.Post, early, bID)
	}
	eventually(t, "alice follows bea live", func() bool { return followState(t, a, bID).State == feed.FollowLive })

	mine := create(t, a, "alice's own")
	later := create(t, b, "written live")
	waitPost(t, aw, "a live create", isPost(later.ID, feed.ActionCreate))
	title := "edited at bea"
	upd, err := b.Service.Update(t.Context(), early.ID, feed.PostPatch{Version: early.Version, Title: &title}, feed.Caller{})
	if err != nil {
		t.Fatalf("Update() = %v", err)
	}
	if pe := waitPost(t, aw, "the update", isPost(early.ID, feed.ActionUpdate)); pe.Post.Title != title || pe.Post.Version != upd.Version {
		t.Fatalf("update replicated as %+v; want title %q version %d", pe.Post, title, upd.Version)
	}
	if _, err := b.Service.Delete(t.Context(), later.ID, 0, feed.Caller{}); err != nil {
		t.Fatalf("Delete() = %v", err)
	}
	waitPost(t, aw, "the delete", isPost(later.ID, feed.ActionDelete))

	// The merged feed: alice's own post and bea's, newest first by date.
	feedA := listAll(t, a)
	if len(feedA) != 2 || feedA[0].ID != mine.ID || feedA[1].ID != early.ID {
		t.Fatalf("alice's feed = %v; want [%s (alice), %s (bea)]", titles(feedA), mine.Title, title)
	}
	// The follow's state takes the position just after the batch that
	// published the delete commits, so it may trail the event briefly.
	eventually(t, "the follow state at bea's seq", func() bool {
		fi := followState(t, a, bID)
		return fi.Seq == b.Store.Seq() && fi.Name == "bea"
	})

	// A replica cannot be edited here; the error names the owner.
	req, _ := http.NewRequest(http.MethodPatch, a.URLs()[0]+"api/posts/"+early.ID,
		strings.NewReader(`{"version":`+strconv.FormatInt(upd.Version, 10)+`,"title":"hijack"}`))
	req.Header.Set("Authorization", "Bearer "+a.Service.Token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PATCH replica: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"read_only"`) || !strings.Contains(string(body), "bea") {
		t.Fatalf("PATCH replica = %d %s; want 403 read_only naming bea", resp.StatusCode, body)
	}

	if err := a.Service.Unfollow(t.Context(), bID); err != nil {
		t.Fatalf("Unfollow() = %v", err)
	}
	waitPost(t, aw, "the replica's removal", isPost(early.ID, feed.ActionDelete))
	if feedA := listAll(t, a); len(feedA) != 1 || feedA[0].ID != mine.ID {
		t.Fatalf("alice's feed after unfollow = %v; want only her own", titles(feedA))
	}
	if list, _ := a.Service.Follows(t.Context()); len(list) != 0 {
		t.Fatalf("Follows() after unfollow = %+v; want none", list)
	}
	create(t, b, "after the unfollow")
	own := create(t, a, "marker")
	waitPost(t, aw, "alice's marker", isPost(own.ID, feed.ActionCreate)) // nothing of bea's came first
	for _, p := range listAll(t, a) {
		if p.Origin == bID {
			t.Fatalf("alice holds %+v after unfollowing bea", p)
		}
	}
}

// TestMesh_NoRelaying: a node following a follower gets the follower's own
// posts only, not the replicas it holds, replayed or live.
func TestMesh_NoRelaying(t *testing.T) {
	a := openMeshNode(t, t.TempDir(), "alice")
	b := openMeshNode(t, t.TempDir(), "bea")
	c := openMeshNode(t, t.TempDir(), "cat")
	aw := watch(t, a, 0)
	old := create(t, b, "bea's, before")
	follow(t, a, b)
	waitPost(t, aw, "bea's post at alice", isPost(old.ID, feed.ActionCreate))

	cw := watch(t, c, 0)
	follow(t, c, a)
	live := create(t, b, "bea's, live")
	waitPost(t, aw, "bea's live post at alice", isPost(live.ID, feed.ActionCreate))
	mine := create(t, a, "alice's")
	waitPost(t, cw, "alice's post at cat", isPost(mine.ID, feed.ActionCreate))
	for _, p := range listAll(t, c) {
		if p.Origin != a.Service.Identity().ID {
			t.Fatalf("cat holds %+v from %s; want alice's posts only", p, p.Origin)
		}
	}
	eventually(t, "cat's position at alice's seq", func() bool {
		return followState(t, c, a.Service.Identity().ID).Seq == a.Store.Seq()
	})
}

func TestMesh_RestartResumesWithoutDuplicates(t *testing.T) {
	b := openMeshNode(t, t.TempDir(), "bea")
	bID := b.Service.Identity().ID
	dirA := t.TempDir()
	a := openMeshNode(t, dirA, "alice")
	aw := watch(t, a, 0)
	var last feed.Post
	for i := range 3 {
		last = create(t, b, fmt.Sprint("before ", i))
	}
	follow(t, a, b)
	waitPost(t, aw, "the last catch-up post", isPost(last.ID, feed.ActionCreate))
	eventually(t, "position at bea's seq", func() bool { return followState(t, a, bID).Seq == b.Store.Seq() })
	seqA := a.Store.Seq()
	ctx, cancel := closeCtx()
	a.Close(ctx)
	cancel()

	title := "edited while alice was away"
	if _, err := b.Service.Update(t.Context(), last.ID, feed.PostPatch{Version: last.Version, Title: &title}, feed.Caller{}); err != nil {
		t.Fatalf("Update() = %v", err)
	}
	n1, n2 := create(t, b, "away 1"), create(t, b, "away 2")

	a = openMeshNode(t, dirA, "alice")
	aw = watch(t, a, seqA)
	seen := map[string]int{}
	waitPost(t, aw, "the changes made while away", func(pe *client.PostEvent) bool {
		seen[pe.Post.ID]++
		return pe.Post.ID == n2.ID
	})
	eventually(t, "position at bea's seq", func() bool { return followState(t, a, bID).Seq == b.Store.Seq() })
	if got := a.Store.Seq(); got != seqA+3 {
		t.Fatalf("alice's seq after the restart = %d; want %d (three changes, none applied twice)", got, seqA+3)
	}
	if seen[last.ID] != 1 || seen[n1.ID] != 1 || seen[n2.ID] != 1 || len(seen) != 3 {
		t.Fatalf("events after the restart = %v; want one each of %s, %s, %s", seen, last.ID, n1.ID, n2.ID)
	}
}

func titles(ps []feed.Post) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Title + " (" + p.Origin[:8] + ")"
	}
	return out
}

// fakeNode is a node speaking protocol v1 from a script, honest or not.
// Each following connection (one with since) gets the frames session
// returns for it, after a hello; hold keeps the connection open afterwards.
type fakeNode struct {
	id, name string
	ts       *httptest.Server

	mu      sync.Mutex
	epoch   string
	seq     int64
	proto   int // in hello; 0: 1
	n       int // following connections so far
	session func(n int, since int64, epoch string) (frames []any, hold bool)
	// dropped counts the held connections that the follower hung up; sent
	// the scripted frames written.
	dropped atomic.Int32
	sent    atomic.Int64
}

// binaryFrame is a frame the fake node sends as a binary message.
type binaryFrame []byte

func newFakeNode(t *testing.T, name string) *fakeNode {
	f := &fakeNode{id: feed.NewID(), name: name, epoch: "e1"}
	up := websocket.Upgrader{}
	f.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		f.mu.Lock()
		var frames []any
		hold := true
		if v := r.URL.Query().Get("since"); v != "" && f.session != nil {
			since, _ := strconv.ParseInt(v, 10, 64)
			frames, hold = f.session(f.n, since, r.URL.Query().Get("epoch"))
			f.n++
		}
		proto := f.proto
		if proto == 0 {
			proto = 1
		}
		hello := map[string]any{"type": "hello", "proto": proto, "node": map[string]string{"id": f.id, "name": f.name},
			"epoch": f.epoch, "seq": f.seq, "peer": map[string]string{"id": "p1", "name": "x", "since": "2026-01-01T00:00:00.000Z"}}
		f.mu.Unlock()
		send := func(v any) error {
			switch raw := v.(type) {
			case []byte:
				return ws.WriteMessage(websocket.TextMessage, raw)
			case binaryFrame:
				return ws.WriteMessage(websocket.BinaryMessage, raw)
			}
			return ws.WriteJSON(v)
		}
		if send(hello) != nil {
			return
		}
		for _, fr := range frames {
			if send(fr) != nil {
				return
			}
			f.sent.Add(1)
		}
		if hold {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					f.dropped.Add(1)
					return
				}
			}
		}
	}))
	t.Cleanup(f.ts.Close)
	return f
}

func postFrame(p feed.Post) map[string]any {
	return map[string]any{"type": "event", "event": "posts", "seq": p.Seq,
		"data": map[string]any{"action": feed.ActionOf(p), "post": p}}
}

func syncedFrame(seq int64) map[string]any { return map[string]any{"type": "synced", "seq": seq} }

func fakePost(origin, title string, seq int64) feed.Post {
	at := feed.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())
	return feed.Post{ID: feed.NewID(), Title: title, Author: "fake", Origin: origin, CreatedAt: at, UpdatedAt: at,
		Version: 1, Seq: seq}
}

func TestMesh_EpochResetDropsAndStartsOver(t *testing.T) {
	a := openMeshNode(t, t.TempDir(), "alice")
	aw := watch(t, a, 0)
	f := newFakeNode(t, "fake")
	p1, p2 := fakePost(f.id, "one", 1), fakePost(f.id, "two", 2)
	p3 := fakePost(f.id, "new epoch", 1)
	f.session = func(n int, since int64, epoch string) ([]any, bool) {
		if n == 0 {
			f.seq = 2
			return []any{postFrame(p1), postFrame(p2), syncedFrame(2)}, false // then the connection ends
		}
		f.epoch, f.seq = "e2", 1
		if epoch != "e2" {
			return []any{map[string]any{"type": "reset", "epoch": "e2"}, postFrame(p3), syncedFrame(1)}, true
		}
		return []any{syncedFrame(1)}, true
	}
	if _, err := a.Service.Follow(t.Context(), f.ts.URL); err != nil {
		t.Fatalf("Follow(fake) = %v", err)
	}
	waitPost(t, aw, "p2", isPost(p2.ID, feed.ActionCreate))
	waitPost(t, aw, "p3", isPost(p3.ID, feed.ActionCreate))
	feedA := listAll(t, a)
	if len(feedA) != 1 || feedA[0].ID != p3.ID {
		t.Fatalf("alice's feed after the reset = %v; want only %s", titles(feedA), p3.Title)
	}
	eventually(t, "position in the new epoch", func() bool {
		row, err := a.Store.Follow(t.Context(), f.id)
		return err == nil && row.Epoch == "e2" && row.Seq == 1
	})
}

// TestMesh_AnotherNodeAtTheAddress: the id decides who a node is; an
// address that answers as another node stops that follower with a state
// saying why.
func TestMesh_AnotherNodeAtTheAddress(t *testing.T) {
	a := openMeshNode(t, t.TempDir(), "alice")
	f := newFakeNode(t, "first")
	first := f.id
	f.session = func(int, int64, string) ([]any, bool) { return nil, false }
	if _, err := a.Service.Follow(t.Context(), f.ts.URL); err != nil {
		t.Fatalf("Follow(fake) = %v", err)
	}
	f.mu.Lock()
	f.id = feed.NewID()
	f.mu.Unlock()
	eventually(t, "the follower refusing the other node", func() bool {
		fi := followState(t, a, first)
		return fi.State == feed.FollowRefused && strings.Contains(fi.Reason, f.id)
	})
	if _, err := a.Service.Follow(t.Context(), a.URLs()[0]); feed.AsError(err).Code != feed.CodeInvalid {
		t.Fatalf("Follow(itself) = %v; want invalid", err)
	}
}

// TestMesh_FollowsAPI: GET /api/follows is open to read; following and
// unfollowing need the pairing token.
func TestMesh_FollowsAPI(t *testing.T) {
	a := openMeshNode(t, t.TempDir(), "alice")
	b := openMeshNode(t, t.TempDir(), "bea")
	bID := b.Service.Identity().ID
	do := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, a.URLs()[0]+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	body := `{"url":"` + b.URLs()[0] + `"}`
	if code, got := do("POST", "api/follows", "", body); code != http.StatusUnauthorized {
		t.Fatalf("POST /api/follows without token = %d %s; want 401", code, got)
	}
	if code, got := do("POST", "api/follows", a.Service.Token(), body); code != http.StatusOK || !strings.Contains(got, bID) {
		t.Fatalf("POST /api/follows = %d %s; want 200 naming %s", code, got, bID)
	}
	if code, got := do("POST", "api/follows", a.Service.Token(), `{"url":"`+a.URLs()[0]+`"}`); code != http.StatusBadRequest {
		t.Fatalf("POST /api/follows itself = %d %s; want 400", code, got)
	}
	eventually(t, "GET /api/follows shows bea live", func() bool {
		code, got := do("GET", "api/follows", "", "")
		var out struct{ Follows []feed.FollowInfo }
		return code == http.StatusOK && json.Unmarshal([]byte(got), &out) == nil && len(out.Follows) == 1 &&
			out.Follows[0].Node == bID && out.Follows[0].State == feed.FollowLive && out.Follows[0].Name == "bea"
	})
	if code, got := do("DELETE", "api/follows/"+bID, "", ""); code != http.StatusUnauthorized {
		t.Fatalf("DELETE without token = %d %s; want 401", code, got)
	}
	if code, got := do("DELETE", "api/follows/"+bID, a.Service.Token(), ""); code != http.StatusOK {
		t.Fatalf("DELETE /api/follows/{node} = %d %s; want 200", code, got)
	}
	if code, got := do("DELETE", "api/follows/"+bID, a.Service.Token(), ""); code != http.StatusNotFound {
		t.Fatalf("DELETE again = %d %s; want 404", code, got)
	}
	if code, got := do("GET", "api/follows", "", ""); code != http.StatusOK || got != `{"follows":[]}`+"\n" && got != `{"follows":[]}` {
		t.Fatalf("GET /api/follows after unfollow = %d %q; want none", code, got)
	}
}

// TestMesh_OfflineNodeStaysReadable: when a followed node goes away, it is
// shown offline and its posts stay readable here.
func TestMesh_OfflineNodeStaysReadable(t *testing.T) {
	a := openMeshNode(t, t.TempDir(), "alice")
	b := openMeshNode(t, t.TempDir(), "bea")
	bID := b.Service.Identity().ID
	aw := watch(t, a, 0)
	p := create(t, b, "still here")
	follow(t, a, b)
	waitPost(t, aw, "bea's post", isPost(p.ID, feed.ActionCreate))
	ctx, cancel := closeCtx()
	b.Close(ctx)
	cancel()
	eventually(t, "bea shown offline", func() bool {
		fi := followState(t, a, bID)
		return fi.State == feed.FollowOffline && fi.Reason != "" && !fi.Since.IsZero()
	})
	if got, err := a.Service.Get(t.Context(), p.ID); err != nil || got.Title != p.Title {
		t.Fatalf("Get(bea's post) with bea away = %+v, %v; want it", got, err)
	}
}
