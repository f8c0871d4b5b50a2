package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/client"
	"lanfeed/feed"
	"lanfeed/internal/testnode"
)

// Backoff of the hostile-node tests' followers: small, so that a case sees
// ten refusals in well under a second, and wide, so that the growth of the
// backoff shows (see refusals).
const (
	hostileMin = 5 * time.Millisecond
	hostileMax = 50 * time.Millisecond
)

// logRecorder keeps what a node logs, for tests that check a log line
// names the node it is about.
type logRecorder struct {
	mu   sync.Mutex
	recs []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]slog.Value
}

type recordHandler struct {
	rec   *logRecorder
	attrs []slog.Attr
}

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	lr := logRecord{level: r.Level, msg: r.Message, attrs: map[string]slog.Value{}}
	for _, a := range h.attrs {
		lr.attrs[a.Key] = a.Value
	}
	r.Attrs(func(a slog.Attr) bool { lr.attrs[a.Key] = a.Value; return true })
	h.rec.mu.Lock()
	h.rec.recs = append(h.rec.recs, lr)
	h.rec.mu.Unlock()
	return nil
}

func (h recordHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return recordHandler{h.rec, append(slices.Clone(h.attrs), as...)}
}

func (h recordHandler) WithGroup(string) slog.Handler { return h }

func (l *logRecorder) logger() *slog.Logger { return slog.New(recordHandler{rec: l}) }

// refusals returns the warnings logged about refusing node, in order.
func (l *logRecorder) refusals(node string) []logRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logRecord
	for _, r := range l.recs {
		if r.level == slog.LevelWarn && strings.Contains(r.msg, "refused") && r.attrs["node"].String() == node {
			out = append(out, r)
		}
	}
	return out
}

// openLoggedNode opens a mesh node whose log the test reads.
func openLoggedNode(t *testing.T, name string, mesh app.MeshConfig) (*app.Server, *logRecorder) {
	t.Helper()
	logs := &logRecorder{}
	return testnode.Open(t, app.Config{Name: name, Logger: logs.logger(), Mesh: mesh}, ""), logs
}

// readUntil reads c's post events until the one of post id, and returns
// every one read.
func readUntil(t *testing.T, c *client.Conn, id string) []*client.PostEvent {
	t.Helper()
	var seen []*client.PostEvent
	waitPost(t, c, "post "+id, func(pe *client.PostEvent) bool {
		seen = append(seen, pe)
		return pe.Post.ID == id
	})
	return seen
}

// padTo is v as JSON, with spaces before its closing brace to size bytes.
func padTo(t *testing.T, v any, size int) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil || len(raw) > size {
		t.Fatalf("json.Marshal(%v) = %d bytes, %v; want at most %d", v, len(raw), err, size)
	}
	return append(append(raw[:len(raw)-1:len(raw)-1], strings.Repeat(" ", size-len(raw))...), '}')
}

// TestMesh_HostileNodeRefused: each way a followed node can break the
// protocol or lie is refused: the follow shows refused with a reason
// saying what was wrong, a warning names the node, nothing it sent is
// stored or reaches this node's clients, and the connection is dropped and
// retried with a growing backoff, while another followed node keeps
// replicating.
func TestMesh_HostileNodeRefused(t *testing.T) {
	type lie struct {
		a, b string // alice's and bea's node ids
		f    *fakeNode
	}
	for _, tc := range []struct {
		name string
		// frames is what the liar sends on its n-th following connection
		// after hello (f.mu held; it may change f's hello); hold keeps the
		// connection open, so that alice has to hang up.
		frames func(l lie, n int) (frames []any, hold bool)
		reason string
	}{
		{"ClaimsTheFollowersOrigin", func(l lie, _ int) ([]any, bool) {
			return []any{postFrame(fakePost(l.a, "claims alice's origin", 1))}, true
		}, "change 1 refused"},
		{"ClaimsAnotherFollowedNodesOrigin", func(l lie, _ int) ([]any, bool) {
			return []any{postFrame(fakePost(l.b, "claims bea's origin", 1))}, true
		}, "change 1 refused"},
		{"ClaimsAThirdOrigin", func(l lie, _ int) ([]any, bool) {
			return []any{postFrame(fakePost(feed.NewID(), "claims a third origin", 1))}, true
		}, "change 1 refused"},
		{"InvalidPost", func(l lie, _ int) ([]any, bool) {
			return []any{postFrame(fakePost(l.f.id, strings.Repeat("x", feed.MaxTitle+1), 1))}, true
		}, "title"},
		{"SeqBackwards", func(l lie, _ int) ([]any, bool) {
			return []any{postFrame(fakePost(l.f.id, "fine", 5)), postFrame(fakePost(l.f.id, "seq backwards", 4))}, true
		}, "seq went backwards: 4 after 5"},
		{"SyncedBehindWhatItSent", func(l lie, _ int) ([]any, bool) {
			return []any{postFrame(fakePost(l.f.id, "fine", 5)), syncedFrame(3)}, true
		}, "synced at 3, behind change 5"},
		{"MalformedJSON", func(lie, int) ([]any, bool) {
			return []any{[]byte(`{"type":"event","event":"posts","seq":`)}, true
		}, "malformed frame"},
		{"PostEventWithoutItsSeq", func(lie, int) ([]any, bool) {
			return []any{[]byte(`{"type":"event","event":"posts","seq":9,"data":{"action":"create","post":{"id":"x"}}}`)}, true
		}, "malformed frame"},
		{"BinaryFrame", func(lie, int) ([]any, bool) { return []any{binaryFrame(`{"type":"synced","seq":0}`)}, true }, "binary frame"},
		{"OversizedFrame", func(l lie, _ int) ([]any, bool) {
			return []any{padTo(t, postFrame(fakePost(l.f.id, "too big", 1)), feed.MaxMessage+1)}, true
		}, "byte limit"},
		{"AnotherProtocolVersion", func(l lie, _ int) ([]any, bool) { l.f.proto = 2; return nil, true }, "version 2"},
		{"NewEpochWithoutReset", func(l lie, n int) ([]any, bool) {
			if n == 0 { // an honest first connection: the position is in e1
				return []any{syncedFrame(0)}, false
			}
			l.f.epoch = "e2"
			return []any{postFrame(fakePost(l.f.id, "new epoch, no reset", 1)), syncedFrame(1)}, true
		}, "without a reset from epoch e1"},
		{"ResetToItsOwnEpoch", func(l lie, _ int) ([]any, bool) {
			return []any{map[string]any{"type": "reset", "epoch": "e1"}, postFrame(fakePost(l.f.id, "after a false reset", 1))}, true
		}, "reset to epoch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, logs := openLoggedNode(t, "alice", app.MeshConfig{MinBackoff: hostileMin, MaxBackoff: hostileMax})
			b := openMeshNode(t, t.TempDir(), "bea")
			bID := b.Service.Identity().ID
			follow(t, a, b)
			aw := watch(t, a, a.Store.Seq())

			// The script runs for following connections only, not for the
			// dial of Follow, which learns the liar's id.
			f := newFakeNode(t, "liar")
			f.session = func(n int, _ int64, _ string) ([]any, bool) {
				f.seq = 10
				return tc.frames(lie{a.Service.Identity().ID, bID, f}, n)
			}
			if _, err := a.Service.Follow(t.Context(), f.ts.URL); err != nil {
				t.Fatalf("Follow(fake) = %v", err)
			}
			t.Cleanup(func() {
				if t.Failed() {
					f.mu.Lock()
					n := f.n
					f.mu.Unlock()
					list, _ := a.Service.Follows(context.Background())
					t.Logf("liar: %d following connections, %d refusals logged; follows %+v", n, len(logs.refusals(f.id)), list)
				}
			})

			// Dropped and retried, ten times; bea's posts arrive meanwhile.
			const rounds = 10
			var fromBea []feed.Post
			eventually(t, "ten refusals of the liar", func() bool {
				if len(fromBea) < 3 {
					fromBea = append(fromBea, create(t, b, "bea goes on"))
				}
				return len(logs.refusals(f.id)) >= rounds
			})
			marker := create(t, b, "bea's marker")
			fromBea = append(fromBea, marker)

			fi := followState(t, a, f.id)
			if fi.State != feed.FollowRefused || !strings.Contains(fi.Reason, tc.reason) {
				t.Errorf("follow state = %s (%q); want refused saying %q", fi.State, fi.Reason, tc.reason)
			}
			recs := logs.refusals(f.id)
			var longest time.Duration
			for i, r := range recs {
				wait, _ := r.attrs["retry"].Any().(time.Duration)
				if r.attrs["name"].String() != "liar" || !strings.Contains(r.attrs["err"].String(), tc.reason) || wait > hostileMax {
					t.Fatalf("refusal %d logged as %q %v; want the node's name liar, the reason %q and a retry within %v",
						i, r.msg, r.attrs, tc.reason, hostileMax)
				}
				if i >= 3 {
					longest = max(longest, wait)
				}
			}
			// Full jitter draws each wait below the backoff: without growth
			// from hostileMin every wait would be under it, with it the
			// chance of that for seven draws is below 1e-6.
			if longest < hostileMin {
				t.Errorf("retries after the third wait at most %v; want the backoff grown beyond %v", longest, hostileMin)
			}
			if d := f.dropped.Load(); d < rounds-2 {
				t.Errorf("alice hung up %d of the liar's connections; want about %d", d, rounds)
			}

			// Nothing of the liar is shown or stored; bea's posts all are.
			ids := map[string]bool{}
			for _, p := range fromBea {
				ids[p.ID] = true
			}
			for _, pe := range readUntil(t, aw, marker.ID) {
				if !ids[pe.Post.ID] || pe.Post.Origin != bID {
					t.Fatalf("alice's clients got %+v; want bea's posts only", pe.Post)
				}
			}
			held := listAll(t, a)
			for _, p := range held {
				if !ids[p.ID] {
					t.Fatalf("alice holds %+v; want nothing from the liar", p)
				}
			}
			if len(held) != len(fromBea) {
				t.Fatalf("alice holds %v; want bea's %d posts", titles(held), len(fromBea))
			}
			if pos, err := a.Store.Follow(t.Context(), f.id); err != nil || pos.Seq != 0 {
				t.Fatalf("position at the liar = %+v, %v; want seq 0: nothing it sent was applied", pos, err)
			}
		})
	}
}

// TestMesh_EpochFlapping: a node announcing a new epoch on every
// connection is followed for EpochChanges new epochs (each dropping and
// copying it again); the next ones are refused before anything is dropped,
// and retried with backoff, until it has stopped flapping for a window.
func TestMesh_EpochFlapping(t *testing.T) {
	const window = 3 * time.Second
	a, logs := openLoggedNode(t, "alice", app.MeshConfig{MinBackoff: hostileMin, MaxBackoff: hostileMax,
		EpochChanges: 3, EpochWindow: window})
	aw := watch(t, a, a.Store.Seq())
	f := newFakeNode(t, "flapper")
	var posts []feed.Post // posts[n]: the one post of epoch e<n>
	stable := false       // once set, the epoch stays
	f.session = func(n int, since int64, epoch string) ([]any, bool) {
		if !stable || len(posts) == 0 {
			f.epoch = "e" + strconv.Itoa(len(posts))
			posts = append(posts, fakePost(f.id, "epoch "+f.epoch, 1))
		}
		f.seq = 1
		p := posts[len(posts)-1]
		if epoch == f.epoch && since >= 1 { // resumed in its epoch: nothing new
			return []any{syncedFrame(1)}, stable
		}
		if epoch == "" || epoch == f.epoch {
			return []any{postFrame(p), syncedFrame(1)}, stable
		}
		// Flapping, it hangs up after each copy; stable, it stays.
		return []any{map[string]any{"type": "reset", "epoch": f.epoch}, postFrame(p), syncedFrame(1)}, stable
	}
	if _, err := a.Service.Follow(t.Context(), f.ts.URL); err != nil {
		t.Fatalf("Follow(fake) = %v", err)
	}
	const rounds = 8
	eventually(t, "refusals of the flapping node", func() bool { return len(logs.refusals(f.id)) >= rounds })
	fi := followState(t, a, f.id)
	if fi.State != feed.FollowRefused || !strings.Contains(fi.Reason, "epoch flapping") {
		t.Fatalf("follow state = %s (%q); want refused for epoch flapping", fi.State, fi.Reason)
	}
	for _, r := range logs.refusals(f.id) {
		if r.attrs["name"].String() != "flapper" || !strings.Contains(r.attrs["err"].String(), "epoch flapping") {
			t.Fatalf("refusal logged as %q %v; want the name flapper and the reason", r.msg, r.attrs)
		}
	}
	// e0 and three new epochs were followed: e0..e2 dropped, e3 held.
	f.mu.Lock()
	kept, flips := posts[3], len(posts)-1
	f.mu.Unlock()
	if got := listAll(t, a); len(got) != 1 || got[0].ID != kept.ID {
		t.Fatalf("alice holds %v after %d epoch changes; want only %q", titles(got), flips, kept.Title)
	}
	if row, err := a.Store.Follow(t.Context(), f.id); err != nil || row.Epoch != "e3" || row.Seq != 1 {
		t.Fatalf("position = %+v, %v; want e3 at 1: a refused epoch changes nothing", row, err)
	}
	mine := create(t, a, "marker")
	var got []string
	for _, pe := range readUntil(t, aw, mine.ID) {
		got = append(got, pe.Action+" "+pe.Post.Title)
	}
	want := []string{"create epoch e0", "delete ", "create epoch e1", "delete ", "create epoch e2", "delete ",
		"create epoch e3", "create marker"}
	if !slices.Equal(got, want) {
		t.Fatalf("alice's clients saw %q; want %q: three drops, nothing of a refused epoch", got, want)
	}

	// Once it keeps one epoch for a window, it is followed again.
	f.mu.Lock()
	stable = true
	last := posts[len(posts)-1]
	f.mu.Unlock()
	eventually(t, "the node live again in its last epoch", func() bool {
		fi := followState(t, a, f.id)
		return fi.State == feed.FollowLive
	})
	if got := listAll(t, a); len(got) != 2 || got[1].ID != last.ID {
		t.Fatalf("alice holds %v; want her marker and %q", titles(got), last.Title)
	}
}

// TestMesh_FloodIsPacedAndIsolated: a node sending valid changes as fast as
// it can is read at the follower's pace (this process's heap does not grow
// with what it sent; TCP holds the rest), and another followed node's
// changes keep arriving meanwhile, between the flood's batches rather than
// after the flood.
func TestMesh_FloodIsPacedAndIsolated(t *testing.T) {
	const (
		flood = 1000 // changes the flooder sends, back to back
		body  = 4000 // characters of each: 4 MB in all
		// heapBound is how far the live heap may grow during the flood:
		// the client reads ahead 64 changes and a batch holds up to 256
		// (about 3 MB with their frames); holding the flood would take
		// over 8 MB (each change's frame and its decoded post).
		heapBound = 6 << 20
		// latencyBound is a generous bound on bea's post reaching alice
		// during the flood: it waits for one of the flood's batches at
		// most (tens of milliseconds; seconds on a loaded machine under
		// -race). That it arrives during the flood, not after, is what
		// shows the isolation; this bound only catches a stall.
		latencyBound = 30 * time.Second
		// floodWait bounds the flood: seconds, more on a loaded machine
		// under -race.
		floodWait = 60 * time.Second
	)
	a, _ := openLoggedNode(t, "alice", app.MeshConfig{MinBackoff: hostileMin, MaxBackoff: hostileMax})
	b := openMeshNode(t, t.TempDir(), "bea")
	follow(t, a, b)

	f := newFakeNode(t, "flooder")
	text := strings.Repeat("f", body)
	var frames []any // a replay as fast as the flooder can send it
	for seq := int64(1); seq <= flood; seq++ {
		p := fakePost(f.id, "flood "+strconv.FormatInt(seq, 10), seq)
		p.Body = text
		frames = append(frames, postFrame(p))
	}
	frames = append(frames, syncedFrame(flood))
	f.session = func(int, int64, string) ([]any, bool) { return frames, true }
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base := heap()
	start := time.Now()
	if _, err := a.Service.Follow(t.Context(), f.ts.URL); err != nil {
		t.Fatalf("Follow(fake) = %v", err)
	}
	var peak uint64
	var latencies []time.Duration
	during := 0 // bea's posts that arrived while the flood was still being applied
	var sampled time.Time
	for applied := int64(0); applied < flood && time.Since(start) < floodWait; {
		if time.Since(sampled) > 250*time.Millisecond { // a GC per sample: not too often
			peak, sampled = max(peak, heap()), time.Now()
		}
		p := create(t, b, "bea during the flood")
		sent := time.Now()
		if !arrives(t, a, p.ID, latencyBound) {
			t.Fatalf("bea's post not at alice %v into the flood (%d of %d applied); want it within %v",
				time.Since(start).Round(time.Millisecond), followState(t, a, f.id).Seq, flood, latencyBound)
		}
		latencies = append(latencies, time.Since(sent))
		if applied = followState(t, a, f.id).Seq; applied < flood {
			during++
		}
	}
	elapsed := time.Since(start)
	slices.Sort(latencies)
	t.Logf("flood of %d changes (%d bytes of body each) applied in %v; heap grew at most %.1f MB; "+
		"%d of bea's posts measured, %d during the flood, latency median %v, max %v",
		flood, body, elapsed.Round(time.Millisecond), float64(peak-min(peak, base))/(1<<20),
		len(latencies), during, latencies[len(latencies)/2], latencies[len(latencies)-1])
	if fi := followState(t, a, f.id); fi.Seq < flood || fi.State != feed.FollowLive {
		t.Fatalf("flooder's follow = %s at %d of %d after %v; want live with all: a valid flood is paced, not refused",
			fi.State, fi.Seq, flood, floodWait)
	}
	if during < 2 {
		t.Errorf("%d of bea's posts arrived while the flood was applied; want 2 or more: bea waited for the flood", during)
	}
	if peak > base+heapBound {
		t.Errorf("heap grew by %d MB during the flood; want under %d MB: the follower holds what it has not applied",
			(peak-base)>>20, heapBound>>20)
	}
}

// arrives polls srv for post id until it is there or within has passed,
// and reports whether it came: no event says that a replica was applied.
func arrives(t *testing.T, srv *app.Server, id string, within time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		if _, err := srv.Service.Get(t.Context(), id); err == nil {
			return true
		}
		<-tick.C
	}
	return false
}
