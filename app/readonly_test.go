package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"lanfeed/client"
	"lanfeed/feed"
)

// TestMesh_ReplicaIsReadOnlyEverywhere: editing or deleting a replica
// fails with read_only and a message naming the owning node, by name and
// id while it is followed and by id once it is not, over REST, the
// websocket and the Wails bindings alike; the replica stays as it was.
func TestMesh_ReplicaIsReadOnlyEverywhere(t *testing.T) {
	d, a, _ := startDesktop(t, "")
	if err := a.Listen("127.0.0.1:0"); err != nil {
		t.Fatalf("Listen() = %v", err)
	}
	b := openMeshNode(t, t.TempDir(), "bea")
	bID := b.Service.Identity().ID
	p := create(t, b, "bea's own")
	aw := watch(t, a, 0)
	follow(t, a, b)
	waitPost(t, aw, "bea's post at alice", isPost(p.ID, feed.ActionCreate))

	rest := func(method, body string) *feed.Error {
		t.Helper()
		req, _ := http.NewRequest(method, a.URLs()[0]+"api/posts/"+p.ID, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+a.Service.Token())
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s replica: %v", method, err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var e feed.Error
		if resp.StatusCode != http.StatusForbidden || json.Unmarshal(raw, &e) != nil {
			t.Fatalf("%s replica = %d %s; want 403 with an error object", method, resp.StatusCode, raw)
		}
		return &e
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	ws, err := client.Dial(ctx, client.Config{URL: a.URLs()[0], Token: a.Service.Token(), DiscardEvents: true})
	if err != nil {
		t.Fatalf("Dial() = %v", err)
	}
	defer ws.Close()
	title := "hijack"
	ver := strconv.FormatInt(p.Version, 10)
	calls := []struct {
		name string
		do   func() *feed.Error
	}{
		{"REST PATCH", func() *feed.Error { return rest(http.MethodPatch, `{"version":`+ver+`,"title":"hijack"}`) }},
		{"REST DELETE", func() *feed.Error { return rest(http.MethodDelete, "") }},
		{"websocket posts.update", func() *feed.Error {
			_, err := ws.Update(ctx, p.ID, feed.PostPatch{Version: p.Version, Title: &title})
			return feed.AsError(err)
		}},
		{"websocket posts.delete", func() *feed.Error { _, err := ws.Delete(ctx, p.ID, 0); return feed.AsError(err) }},
		{"Wails Posts.Update", func() *feed.Error {
			_, err := d.Posts.Update(p.ID, feed.PostPatch{Version: p.Version, Title: &title})
			return d.FormatError(err).(*feed.Error)
		}},
		{"Wails Posts.Delete", func() *feed.Error {
			_, err := d.Posts.Delete(p.ID, 0)
			return d.FormatError(err).(*feed.Error)
		}},
	}
	check := func(names ...string) {
		t.Helper()
		for _, c := range calls {
			e := c.do()
			if e.Code != feed.CodeReadOnly {
				t.Errorf("%s = %+v; want read_only", c.name, e)
			}
			for _, n := range names {
				if !strings.Contains(e.Message, n) {
					t.Errorf("%s says %q; want it to name %s", c.name, e.Message, n)
				}
			}
		}
		if got, err := a.Service.Get(t.Context(), p.ID); err != nil || got.Title != p.Title || got.Deleted {
			t.Fatalf("replica after the refused writes = %+v, %v; want it unchanged", got, err)
		}
	}
	check(`"bea"`, bID)

	// Not followed any more but still held (a crash mid-unfollow leaves
	// that): the id alone names the owner.
	if err := a.Store.Unfollow(t.Context(), bID); err != nil {
		t.Fatalf("store Unfollow() = %v", err)
	}
	check(bID)
}
