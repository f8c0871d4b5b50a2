package realtime_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/feed"
	"lanfeed/realtime"
)

// actionOf is the action a posts event must carry for a post in state p.
func actionOf(p wirePost) string {
	switch {
	case p.Deleted:
		return "delete"
	case p.Version == 1:
		return "create"
	}
	return "update"
}

// samePost reports whether the post a peer received is p.
func samePost(w wirePost, p feed.Post) bool {
	return w.ID == p.ID && w.Title == p.Title && w.Body == p.Body && w.Author == p.Author &&
		w.Version == p.Version && w.Deleted == p.Deleted && w.Seq == p.Seq
}

func TestHub_Sync(t *testing.T) {
	t.Run("ResumeAfterMissedChanges", testResumeAfterMissedChanges)
	t.Run("InURLWhileWritersWrite", func(t *testing.T) { testResumeWhileWriting(t, true) })
	t.Run("MessageWhileWritersWrite", func(t *testing.T) { testResumeWhileWriting(t, false) })
	t.Run("ReplayLargerThanQueue", testReplayLargerThanQueue)
	t.Run("EpochMismatchResets", testEpochMismatchResets)
	t.Run("EpochMismatchInURLResets", testEpochMismatchInURLResets)
	t.Run("SinceAheadOfNodeResets", testSinceAheadResets)
	t.Run("NoEpochResumes", testNoEpochResumes)
}

// testResumeAfterMissedChanges: a peer that saw everything up to S misses
// 100 posts (some updated, some deleted, some older posts changed too); its
// sync gets exactly the latest state of what changed, then synced, then
// live events.
func testResumeAfterMissedChanges(t *testing.T) {
	n := startNode(t, realtime.Config{ReplayPage: 16})
	latest := map[string]feed.Post{}
	keep := func(p feed.Post) feed.Post { latest[p.ID] = p; return p }
	var old []feed.Post
	for i := range 10 {
		old = append(old, keep(n.create(t, fmt.Sprintf("old %d", i), "")))
	}

	c := n.dial(t, dialOpts{name: "resumer"})
	for i := range 5 {
		keep(n.create(t, fmt.Sprintf("seen live %d", i), ""))
	}
	frames, err := c.collectPosts(5, readWait)
	if err != nil {
		t.Fatal(err)
	}
	since := frames[4].Seq
	c.conn.Close()

	// What it misses.
	var missed []feed.Post
	for i := range 100 {
		missed = append(missed, keep(n.create(t, fmt.Sprintf("missed %d", i), strings.Repeat("m", i))))
	}
	for i := 0; i < 100; i += 5 {
		missed[i] = keep(n.update(t, missed[i].ID, missed[i].Version, fmt.Sprintf("missed %d, edited", i)))
	}
	for i := 0; i < 100; i += 10 {
		missed[i] = keep(n.update(t, missed[i].ID, missed[i].Version, fmt.Sprintf("missed %d, edited again", i)))
	}
	for i := 3; i < 100; i += 9 {
		keep(n.delete(t, missed[i].ID))
	}
	keep(n.update(t, old[2].ID, 1, "old 2, edited"))
	keep(n.delete(t, old[7].ID))

	var want []feed.Post
	for _, p := range latest {
		if p.Seq > since {
			want = append(want, p)
		}
	}
	slices.SortFunc(want, func(a, b feed.Post) int { return int(a.Seq - b.Seq) })

	c = n.dial(t, dialOpts{name: "resumer"})
	if c.hello.Epoch != n.epoch || c.hello.Seq != n.seq() {
		t.Fatalf("hello epoch, seq = %s, %d; want %s, %d", c.hello.Epoch, c.hello.Seq, n.epoch, n.seq())
	}
	c.sync(since, c.hello.Epoch)
	synced, replay := c.readUntil("synced", func(f frame) bool { return f.Type == "synced" })
	replay = slices.DeleteFunc(replay, frame.IsPeers)
	if len(replay) != len(want) {
		t.Errorf("replay has %d events; want %d", len(replay), len(want))
	}
	for i, f := range replay {
		if i >= len(want) {
			break
		}
		d := f.PostData(t)
		if !f.IsPost() || f.Seq != want[i].Seq || !samePost(d.Post, want[i]) || d.Action != actionOf(d.Post) {
			t.Errorf("replay[%d] = %s; want the %s of %+v", i, f, actionOf(d.Post), want[i])
		}
	}
	if synced.Seq != n.seq() {
		t.Errorf("synced seq = %d; want %d", synced.Seq, n.seq())
	}

	// Then live, right after the replay.
	for i := range 3 {
		p := n.post(t, fmt.Sprintf("live %d", i), "")
		if f := c.readNonPeers(); !f.IsPost() || f.Seq != synced.Seq+1+int64(i) || f.PostData(t).Post != p {
			t.Errorf("live event %d = %s; want the create of seq %d", i, f, synced.Seq+1+int64(i))
		}
	}
}

// mixedWriter writes ops changes: creates, updates of its own posts and of
// the given older posts, and deletes. It returns errors instead of failing
// so that it can run in a goroutine.
func mixedWriter(n *node, name string, ops int, older []feed.Post) error {
	ctx := context.Background()
	svc := n.srv.Service
	var mine []feed.Post
	for k := range ops {
		var err error
		var p feed.Post
		switch {
		case k%7 == 3 && len(older) > 0:
			title := fmt.Sprintf("%s edits %s", name, older[0].Title)
			_, err = svc.Update(ctx, older[0].ID, feed.PostPatch{Version: older[0].Version, Title: &title}, feed.Caller{})
			older = older[1:]
		case k%5 == 4 && len(mine) > 1:
			title := fmt.Sprintf("%s-%d edited", name, k)
			p, err = svc.Update(ctx, mine[0].ID, feed.PostPatch{Version: mine[0].Version, Title: &title}, feed.Caller{})
			mine[0] = p
		case k%6 == 5 && len(mine) > 2:
			_, err = svc.Delete(ctx, mine[1].ID, 0, feed.Caller{})
			mine = slices.Delete(mine, 1, 2)
		default:
			p, err = svc.Create(ctx, feed.NewPost{Title: fmt.Sprintf("%s-%d", name, k)}, feed.Caller{})
			mine = append(mine, p)
		}
		if err != nil {
			return fmt.Errorf("%s op %d: %w", name, k, err)
		}
	}
	return nil
}

// testResumeWhileWriting resumes a peer while four writers keep writing,
// with the sync in the URL or as the first message. Whatever interleaving
// happens, the peer must end up with the final state of every post changed
// after its seq, no seq twice, and a live stream without a gap.
func testResumeWhileWriting(t *testing.T, inURL bool) {
	// Small socket buffers make the replay wait for the peer's reads, so
	// the writers really write while it runs.
	n := startNodeWith(t, app.Config{Hub: realtime.Config{ReplayPage: 16, SendBuffer: 16 << 10}})
	var older []feed.Post
	for i := range 150 {
		older = append(older, n.create(t, fmt.Sprintf("old %d", i), strings.Repeat("o", 2000)))
	}
	const since = 50
	const writers, ops = 4, 40

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	startWriters := func() {
		for w := range writers {
			mine := older[w*10 : w*10+10] // each writer edits its own older posts
			wg.Go(func() {
				if err := mixedWriter(n, fmt.Sprintf("w%d", w), ops, mine); err != nil {
					errs <- err
				}
			})
		}
	}
	defer wg.Wait()

	var c *client
	var first []frame
	if inURL {
		startWriters()
		c = n.dial(t, dialOpts{name: "resumer", query: sinceQuery(since, n.epoch), dialer: smallReadBufferDialer(32 << 10)})
	} else {
		c = n.dial(t, dialOpts{name: "resumer", dialer: smallReadBufferDialer(32 << 10)})
		c.sync(since, n.epoch)
		// Nothing is written before the replay has begun, so no live event
		// can precede it.
		f, skipped := c.readUntil("the first replayed event", frame.IsPost)
		first = append(skipped, f)
		startWriters()
	}
	hello := c.hello.Seq

	// Read the replay slowly, so that it spans many writes.
	replay := slices.DeleteFunc(first, frame.IsPeers)
	var synced frame
	for synced.Type == "" {
		f := c.read()
		switch {
		case f.IsPeers():
		case f.Type == "synced":
			synced = f
		default:
			replay = append(replay, f)
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	final := n.seq()
	var live []frame
	if final > synced.Seq {
		var err error
		if live, err = c.collectPosts(int(final-synced.Seq), readWait); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("hello seq %d, %d events replayed (%d written during the replay), synced %d, %d live up to %d",
		hello, len(replay), countAbove(replay, hello), synced.Seq, len(live), final)

	if synced.Seq < hello || synced.Seq > final {
		t.Errorf("synced seq = %d; want between hello's %d and the final %d", synced.Seq, hello, final)
	}
	prev := int64(since)
	for i, f := range replay {
		if !f.IsPost() || f.Seq <= prev || f.Seq > synced.Seq {
			t.Fatalf("replay[%d] = %s; want a posts event with seq in (%d, %d]", i, f, prev, synced.Seq)
		}
		prev = f.Seq
	}
	if err := checkContiguous("live", live, synced.Seq); err != nil {
		t.Error(err)
	}
	seen := map[int64]bool{}
	last := map[string]wirePost{}
	for _, f := range slices.Concat(replay, live) {
		if seen[f.Seq] {
			t.Errorf("seq %d received twice", f.Seq)
		}
		seen[f.Seq] = true
		d := f.PostData(t)
		if d.Post.Seq != f.Seq || d.Action != actionOf(d.Post) {
			t.Errorf("event %s: want post seq %d and action %s", f, f.Seq, actionOf(d.Post))
		}
		last[d.Post.ID] = d.Post
	}
	want, err := n.srv.Store.Changes(context.Background(), since, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != len(want) {
		t.Errorf("peer knows %d posts changed after %d; want %d", len(last), since, len(want))
	}
	for _, p := range want {
		if got, ok := last[p.ID]; !ok || !samePost(got, p) {
			t.Errorf("peer's post %s = %+v; want %+v", p.ID, got, p)
		}
	}
}

func countAbove(frames []frame, seq int64) int {
	k := 0
	for _, f := range frames {
		if f.Seq > seq {
			k++
		}
	}
	return k
}

// testReplayLargerThanQueue: a replay many times the queue limit, streamed
// over many pages to a peer that is slow to start reading, is delivered
// whole and does not close the peer with 1013.
func testReplayLargerThanQueue(t *testing.T) {
	const queue = 16 << 10
	n := startNodeWith(t, app.Config{Hub: realtime.Config{QueueBytes: queue, ReplayPage: 8, SendBuffer: 16 << 10}})
	body := strings.Repeat("r", 1500)
	for i := range 120 {
		n.create(t, fmt.Sprintf("history %d", i), body)
	}
	c := n.dial(t, dialOpts{name: "late", query: sinceQuery(0, n.epoch), dialer: smallReadBufferDialer(32 << 10)})
	// While the replay waits for the socket, more is written and presence
	// changes: none of it may overflow the queue.
	for i := range 10 {
		n.post(t, fmt.Sprintf("during %d", i), body)
		n.dial(t, dialOpts{name: fmt.Sprintf("visitor %d", i)}).conn.Close()
	}
	time.Sleep(100 * time.Millisecond)

	total := 0
	var events []frame
	for {
		f, err := c.next(readWait)
		if err != nil {
			t.Fatalf("after %d events (%d bytes): %v; want the whole replay", len(events), total, err)
		}
		if f.Type == "synced" {
			if f.Seq != n.seq() {
				t.Errorf("synced seq = %d; want %d", f.Seq, n.seq())
			}
			break
		}
		if f.IsPost() {
			events = append(events, f)
			total += len(f.Raw)
		}
	}
	if err := checkContiguous("replay", events, 0); err != nil {
		t.Error(err)
	}
	if len(events) != 130 || total < 8*queue {
		t.Errorf("replay = %d events, %d bytes; want 130 events, over %d bytes", len(events), total, 8*queue)
	}
	// Still connected and live.
	p := n.post(t, "after", "")
	if f := c.readNonPeers(); !f.IsPost() || f.Seq != p.Seq {
		t.Errorf("got %s; want the live event of seq %d", f, p.Seq)
	}
}

// history writes five changes: three creates, an update, a delete, and
// returns the latest state of the three posts in seq order.
func history(t *testing.T, n *node) []feed.Post {
	t.Helper()
	a := n.create(t, "a", "")
	b := n.create(t, "b", "")
	c := n.create(t, "c", "")
	a = n.update(t, a.ID, 1, "a, edited")
	b = n.delete(t, b.ID)
	return []feed.Post{c, a, b}
}

// expectReplay reads a replay of want (in seq order) then synced with seq.
func expectReplay(t *testing.T, c *client, want []feed.Post, seq int64) {
	t.Helper()
	for i, p := range want {
		f := c.readNonPeers()
		if !f.IsPost() || f.Seq != p.Seq || !samePost(f.PostData(t).Post, p) || f.PostData(t).Action != actionOf(f.PostData(t).Post) {
			t.Fatalf("replay[%d] = %s; want the event of %+v", i, f, p)
		}
	}
	if f := c.readNonPeers(); f.Type != "synced" || f.Seq != seq {
		t.Fatalf("got %s; want synced with seq %d", f, seq)
	}
}

func testEpochMismatchResets(t *testing.T) {
	n := startNode(t, realtime.Config{})
	want := history(t, n)
	c := n.dial(t, dialOpts{name: "from another node"})
	c.sync(3, "not-this-epoch")
	if f := c.readNonPeers(); f.Type != "reset" || f.Epoch != n.epoch {
		t.Fatalf("got %s; want reset with epoch %s", f, n.epoch)
	}
	expectReplay(t, c, want, n.seq()) // from 0: everything
}

func testEpochMismatchInURLResets(t *testing.T) {
	n := startNode(t, realtime.Config{})
	want := history(t, n)
	c := n.dial(t, dialOpts{name: "from another node", query: sinceQuery(4, "not-this-epoch")})
	if f := c.readNonPeers(); f.Type != "reset" || f.Epoch != n.epoch {
		t.Fatalf("got %s; want reset with epoch %s", f, n.epoch)
	}
	expectReplay(t, c, want, n.seq())
}

func testSinceAheadResets(t *testing.T) {
	n := startNode(t, realtime.Config{})
	want := history(t, n)
	c := n.dial(t, dialOpts{name: "from the future"})
	c.sync(n.seq()+10, n.epoch)
	if f := c.readNonPeers(); f.Type != "reset" || f.Epoch != n.epoch {
		t.Fatalf("got %s; want reset with epoch %s", f, n.epoch)
	}
	expectReplay(t, c, want, n.seq())
}

// testNoEpochResumes: a peer that does not know the epoch yet resumes
// without a reset.
func testNoEpochResumes(t *testing.T) {
	n := startNode(t, realtime.Config{})
	want := history(t, n)
	c := n.dial(t, dialOpts{name: "first time"})
	c.sync(3, "")
	expectReplay(t, c, want[1:], n.seq()) // seqs 4 and 5
}
