//go:build linux

package reliability

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // read-only look at the file a killed node left
)

// Crash durability (issue 4, item 1): lanfeedd is killed with SIGKILL at a
// random moment while posts arrive over HTTP and websocket; after each kill
// the database must be intact, hold every acknowledged post byte for byte,
// and a following peer must resume with every change exactly once.
func TestCrash_KillNineLosesNoAcknowledgedPost(t *testing.T) {
	iterations, maxDelay := 20, 300*time.Millisecond
	if *soak {
		iterations, maxDelay = 200, time.Second
	}
	const httpWriters, wsWriters = 3, 3
	dir := t.TempDir()
	client := newHTTPClient()
	defer client.CloseIdleConnections()
	fol := newFollower()
	d := dialer("")

	acked := map[string]post{} // by id, over all iterations
	var ackedHTTP, ackedWS int
	var maxAcked, prevMax int64
	var db map[string]post
	start := time.Now()

	for iter := range iterations {
		n := startNode(t, dir, "127.0.0.1:0", unlimited...)
		conn, folDone, err := fol.connect(d, n.wsURL(fol.query()))
		if err != nil {
			t.Fatalf("iteration %d: follower resume: %v\nstderr:\n%s", iter, err, n.Stderr.String())
		}
		// After a restart the follower must hold exactly the database it was
		// killed with: nothing was written since.
		if iter > 0 {
			checkFollower(t, iter, fol, db, prevMax)
		}

		// Writers run until the node dies under them.
		var mu sync.Mutex
		var wg sync.WaitGroup
		floor := prevMax // every seq handed out from now on must be above it
		record := func(p post, viaWS bool) {
			mu.Lock()
			defer mu.Unlock()
			if p.Seq <= floor {
				t.Errorf("iteration %d: post acknowledged with seq %d; the database was already at %d (seq went backwards)", iter, p.Seq, floor)
			}
			acked[p.ID] = p
			maxAcked = max(maxAcked, p.Seq)
			if viaWS {
				ackedWS++
			} else {
				ackedHTTP++
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		for g := range httpWriters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 5000 {
					title, body := content(iter, "h", g, i)
					status, p, raw, err := createPost(ctx, client, n.url, n.token, title, body)
					if err != nil {
						return // the node is gone
					}
					if status == http.StatusTooManyRequests { // a rate limit is not a failure: back off
						time.Sleep(100 * time.Millisecond)
						continue
					}
					if status != http.StatusCreated {
						t.Errorf("iteration %d: POST /api/posts = %d %s; want 201", iter, status, raw)
						return
					}
					if p.Title != title || p.Body != body {
						t.Errorf("iteration %d: 201 carries %q/%d bytes; want %q/%d bytes", iter, p.Title, len(p.Body), title, len(body))
					}
					record(p, false)
				}
			}()
		}
		for g := range wsWriters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, _, err := d.Dial(n.wsURL("name=writer&token="+n.token), nil)
				if err != nil {
					return
				}
				defer c.Close()
				for i := range 5000 {
					title, body := content(iter, "w", g, i)
					emit := map[string]any{"type": "emit", "id": i + 1, "event": "posts.create",
						"data": map[string]string{"title": title, "body": body}}
					c.SetWriteDeadline(time.Now().Add(waitFor))
					if c.WriteJSON(emit) != nil {
						return
					}
					for { // skip hello, presence and others' events until our answer
						c.SetReadDeadline(time.Now().Add(waitFor))
						_, b, err := c.ReadMessage()
						if err != nil {
							return
						}
						fr, ok, _ := decode(b)
						if !ok || (fr.Type != "ack" && fr.Type != "error") || fr.ID != int64(i+1) {
							continue
						}
						if fr.Type == "error" && fr.Code == "rate_limited" {
							time.Sleep(150 * time.Millisecond)
							break
						}
						if fr.Type == "error" {
							t.Errorf("iteration %d: emit answered %s", iter, b)
							return
						}
						var p post
						if err := json.Unmarshal(fr.Data, &p); err != nil || p.Title != title || p.Body != body {
							t.Errorf("iteration %d: ack %s does not carry the emitted post (%v)", iter, b, err)
							return
						}
						record(p, true)
						break
					}
				}
			}()
		}

		time.Sleep(time.Duration(rand.Int64N(int64(maxDelay))) + 10*time.Millisecond)
		n.kill()
		wg.Wait()
		cancel()
		conn.Close()
		<-folDone

		// The process is dead: inspect the file it left behind.
		db = inspect(t, iter, filepath.Join(dir, "lanfeed.db"))
		var dbMax int64
		for _, p := range db {
			dbMax = max(dbMax, p.Seq)
		}
		for id, a := range acked {
			got, ok := db[id]
			if !ok {
				t.Errorf("iteration %d: acknowledged post %s (seq %d, %q) is not in the database", iter, id, a.Seq, a.Title)
				continue
			}
			if got.Title != a.Title || got.Body != a.Body || got.Seq != a.Seq {
				t.Errorf("iteration %d: post %s = %q/seq %d; acknowledged %q/seq %d", iter, id, got.Title, got.Seq, a.Title, a.Seq)
			}
		}
		if dbMax < maxAcked || dbMax < prevMax {
			t.Errorf("iteration %d: max seq in database = %d; want >= %d (acked) and >= %d (before)", iter, dbMax, maxAcked, prevMax)
		}
		fol.mu.Lock()
		for id, p := range fol.posts { // what a peer was told must have been durable
			if got, ok := db[id]; !ok || got.Seq != p.Seq || got.Title != p.Title || got.Body != p.Body {
				t.Errorf("iteration %d: follower holds post %s seq %d; database has %+v (present %v)", iter, id, p.Seq, got.Seq, ok)
			}
		}
		fol.mu.Unlock()
		prevMax = dbMax
		if t.Failed() {
			t.Fatalf("stopping after iteration %d", iter)
		}
	}

	// A last restart: the follower resumes once more and must equal the file.
	n := startNode(t, dir, "127.0.0.1:0", unlimited...)
	conn, folDone, err := fol.connect(d, n.wsURL(fol.query()))
	if err != nil {
		t.Fatalf("final follower resume: %v", err)
	}
	checkFollower(t, iterations, fol, db, prevMax)
	conn.Close()
	<-folDone
	n.stop(t)

	fol.mu.Lock()
	defer fol.mu.Unlock()
	t.Logf("FIGURES crash: iterations=%d acknowledged=%d (http %d, websocket %d) lost=%d committed=%d follower-resumes=%d duration=%v",
		iterations, ackedHTTP+ackedWS, ackedHTTP, ackedWS, countLost(acked, db), prevMax, fol.connNum, time.Since(start).Round(time.Millisecond))
}

// content returns a unique title and a body of random length with
// multi-byte characters, tabs and newlines that must round-trip exactly.
func content(iter int, kind string, g, i int) (title, body string) {
	title = fmt.Sprintf("crash %d %s%d #%d", iter, kind, g, i)
	body = fmt.Sprintf("body of %s\n\tÄ ✓ 🎉 ", title) + strings.Repeat("x", rand.IntN(3000))
	return title, body
}

func countLost(acked, db map[string]post) int {
	lost := 0
	for id := range acked {
		if _, ok := db[id]; !ok {
			lost++
		}
	}
	return lost
}

// checkFollower requires that the follower holds exactly db and has seen
// every seq from 1 to the database's maximum exactly once (every change
// here is a create, so no seq is superseded).
func checkFollower(t *testing.T, iter int, f *follower, db map[string]post, maxSeq int64) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.errs {
		t.Errorf("iteration %d: follower: %s", iter, e)
	}
	f.errs = nil
	if len(f.posts) != len(db) {
		t.Errorf("iteration %d: follower holds %d posts; database has %d", iter, len(f.posts), len(db))
	}
	for id, p := range db {
		if got, ok := f.posts[id]; !ok || got != p {
			t.Errorf("iteration %d: follower has post %s at seq %d %q; database has seq %d %q", iter, id, got.Seq, got.Title, p.Seq, p.Title)
		}
	}
	if f.last != maxSeq {
		t.Errorf("iteration %d: follower at seq %d; database at %d", iter, f.last, maxSeq)
	}
	for s := int64(1); s <= maxSeq; s++ {
		if c := f.seen[s]; c != 1 {
			t.Errorf("iteration %d: follower received seq %d %d times; want once", iter, s, c)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// inspect opens the dead node's database read-only, requires PRAGMA
// integrity_check to be ok and returns every post by id.
func inspect(t *testing.T, iter int, path string) map[string]post {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`PRAGMA integrity_check`)
	if err != nil {
		t.Fatalf("iteration %d: integrity_check: %v", iter, err)
	}
	var res []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		res = append(res, s)
	}
	rows.Close()
	if len(res) != 1 || res[0] != "ok" {
		t.Fatalf("iteration %d: PRAGMA integrity_check = %q; want ok", iter, res)
	}
	rows, err = db.Query(`SELECT id, title, body, version, deleted, seq FROM posts`)
	if err != nil {
		t.Fatalf("iteration %d: read posts: %v", iter, err)
	}
	defer rows.Close()
	all := map[string]post{}
	for rows.Next() {
		var p post
		if err := rows.Scan(&p.ID, &p.Title, &p.Body, &p.Version, &p.Deleted, &p.Seq); err != nil {
			t.Fatal(err)
		}
		all[p.ID] = p
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("iteration %d: read posts: %v", iter, err)
	}
	return all
}
