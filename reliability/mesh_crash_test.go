//go:build linux

package reliability

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/feed"
	"lanfeed/store"
)

// replicaRow is a replica as the follower's database holds it.
type replicaRow struct {
	originVersion int64
	deleted       bool
}

// Mesh durability (issue 10): a follower, lanfeedd serve --follow, is killed
// with SIGKILL at random moments while it catches up with an origin node
// and while the origin keeps changing. After every kill its position and
// replicas agree (nothing at or below the position is missing or stale,
// nothing is ahead of the origin); once it has caught up, every post of the
// origin is there exactly once, at its latest version, and nothing else.
func TestMeshCrash_KillNineDuringCatchUp(t *testing.T) {
	rounds, maxDelay, seed := 20, 400*time.Millisecond, 3000
	if *soak {
		rounds, maxDelay, seed = 200, time.Second, 20000
	}
	ctx := context.Background()
	origin, err := app.Open(ctx, app.Config{DataDir: t.TempDir(), Name: "origin",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer origin.Close(ctx)
	if err := origin.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	originID := origin.Service.Identity().ID
	// The seed goes straight to the store, in big batches: nobody listens yet.
	for i := 0; i < seed; i += 250 {
		ops := make([]store.Op, 0, 250)
		for j := i; j < min(i+250, seed); j++ {
			ops = append(ops, store.CreateOp(feed.NewPost{Title: fmt.Sprint("seed ", j), Body: "body", Author: "o"}))
		}
		for _, r := range origin.Store.Apply(ctx, ops) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}

	dir := t.TempDir()
	dbPath := filepath.Join(dir, "lanfeed.db")
	for round := range rounds {
		f := startNode(t, dir, "127.0.0.1:0", "--follow", origin.URLs()[0])
		// The origin changes while the follower catches up: live events
		// interleave with the replay.
		wctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			changeOrigin(wctx, t, origin, round)
		}()
		time.Sleep(rand.N(maxDelay)) // the random moment of the kill
		f.kill()
		cancel()
		wg.Wait()
		checkReplicas(t, fmt.Sprint("round ", round), origin, originID, dbPath, false)
	}

	// The last run is not killed: it must catch up completely.
	f := startNode(t, dir, "127.0.0.1:0", "--follow", origin.URLs()[0])
	hc := newHTTPClient()
	defer hc.CloseIdleConnections()
	want := origin.Store.Seq()
	deadline := time.Now().Add(4 * waitFor)
	for {
		if followSeq(t, hc, f.url, originID) == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("follower at seq %d of the origin after %v; want %d", followSeq(t, hc, f.url, originID), 4*waitFor, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.stop(t)
	checkReplicas(t, "after catching up", origin, originID, dbPath, true)
}

// changeOrigin updates, deletes and creates posts at the origin until ctx
// ends.
func changeOrigin(ctx context.Context, t *testing.T, origin *app.Server, round int) {
	for i := 0; ctx.Err() == nil && i < 200; i++ {
		page, err := origin.Service.List(ctx, feed.PageQuery{Limit: 50})
		if err != nil || len(page.Posts) == 0 {
			return
		}
		p := page.Posts[rand.N(len(page.Posts))]
		switch i % 3 {
		case 0:
			title := fmt.Sprintf("edited %d.%d", round, i)
			origin.Service.Update(ctx, p.ID, feed.PostPatch{Version: p.Version, Title: &title}, feed.Caller{})
		case 1:
			origin.Service.Delete(ctx, p.ID, 0, feed.Caller{})
		default:
			if _, err := origin.Service.Create(ctx, feed.NewPost{Title: fmt.Sprintf("new %d.%d", round, i), Author: "o"}, feed.Caller{}); err != nil && ctx.Err() == nil {
				t.Errorf("origin Create() = %v", err)
			}
		}
		time.Sleep(2 * time.Millisecond) // a steady trickle, not a flood
	}
}

// checkReplicas compares the follower's database with the origin. complete
// asks for every origin post at its latest version.
func checkReplicas(t *testing.T, when string, origin *app.Server, originID, dbPath string, complete bool) {
	t.Helper()
	at := map[string]feed.Post{} // the origin's posts, tombstones included
	for since := int64(0); ; {
		posts, err := origin.Store.Changes(context.Background(), since, store.MaxChanges)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range posts {
			at[p.ID] = p
			since = p.Seq
		}
		if len(posts) < store.MaxChanges {
			break
		}
	}
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var epoch string
	var pos int64
	err = db.QueryRow(`SELECT epoch, seq FROM follows WHERE node = ?`, originID).Scan(&epoch, &pos)
	if err == sql.ErrNoRows { // killed before the follow was recorded
		return
	}
	if err != nil {
		t.Fatalf("%s: read the position: %v", when, err)
	}
	rows, err := db.Query(`SELECT id, origin_version, deleted FROM posts WHERE origin = ?`, originID)
	if err != nil {
		t.Fatalf("%s: read replicas: %v", when, err)
	}
	held := map[string]replicaRow{}
	for rows.Next() {
		var id string
		var r replicaRow
		if err := rows.Scan(&id, &r.originVersion, &r.deleted); err != nil {
			t.Fatal(err)
		}
		held[id] = r
	}
	rows.Close()
	for id, r := range held {
		p, ok := at[id]
		if !ok {
			t.Fatalf("%s: the follower holds %s, which the origin never had", when, id)
		}
		if r.originVersion > p.Version {
			t.Fatalf("%s: replica %s at version %d, ahead of the origin's %d", when, id, r.originVersion, p.Version)
		}
	}
	if epoch != "" && epoch != origin.Service.Identity().Epoch {
		t.Fatalf("%s: position in epoch %q; the origin's is %q", when, epoch, origin.Service.Identity().Epoch)
	}
	for id, p := range at {
		if p.Seq > pos && !complete {
			continue // not reached yet: any older version, or none, is right
		}
		r, ok := held[id]
		if !ok || r.originVersion != p.Version || r.deleted != p.Deleted {
			t.Fatalf("%s: position %d; origin post %s (seq %d, version %d, deleted %v) held as %+v (held: %v)",
				when, pos, id, p.Seq, p.Version, p.Deleted, r, ok)
		}
	}
	t.Logf("%s: position %d of the origin's %d, %d replicas", when, pos, origin.Store.Seq(), len(held))
	if complete && len(held) != len(at) {
		t.Fatalf("%s: follower holds %d posts of the origin; want %d", when, len(held), len(at))
	}
}

// followSeq returns the follower's position in node's log, from GET
// /api/follows; -1 before the follow is recorded.
func followSeq(t *testing.T, hc *http.Client, baseURL, node string) int64 {
	t.Helper()
	resp, err := hc.Get(baseURL + "api/follows")
	if err != nil {
		t.Fatalf("GET /api/follows: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Follows []struct {
			Node string `json:"node"`
			Seq  int64  `json:"seq"`
		} `json:"follows"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET /api/follows: %v", err)
	}
	for _, f := range out.Follows {
		if f.Node == node {
			return f.Seq
		}
	}
	return -1
}
