package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/realtime"

	"github.com/gorilla/websocket"
)

// TestHub_SlowPeerClosedWith1013: a peer that stops reading overflows its
// queue and is closed with 1013, while 50 peers that read get every event
// and the writer is never held up.
func TestHub_SlowPeerClosedWith1013(t *testing.T) {
	const (
		queue   = 128 << 10
		healthy = 50
		posts   = 300
		body    = 1800 // characters: frames of about 2 KB
		// lag is how far behind the healthy peers may fall before the test
		// waits for them: on a loaded machine a peer's writer goroutine can
		// go unscheduled for a while, and a peer that lags a whole queue
		// behind is rightly cut off. 32 frames fill a quarter of the queue.
		lag = 32
	)
	// Small socket buffers: the kernel holds tens of kilobytes for the slow
	// peer instead of megabytes, so it overflows after about 100 posts
	// (kernel, the batch its writer is stuck on, then a full queue). A long
	// WriteWait keeps the stalled write alive until the test reads.
	n := startNodeWith(t, app.Config{Hub: realtime.Config{QueueBytes: queue, WriteWait: time.Minute, SendBuffer: 16 << 10}})
	slow := n.dial(t, dialOpts{name: "slow", dialer: smallReadBufferDialer(16 << 10)})
	var peers []*client
	for i := range healthy {
		peers = append(peers, n.dial(t, dialOpts{name: fmt.Sprintf("healthy%d", i)}))
	}
	start := n.seq()

	var wg sync.WaitGroup
	errs := make(chan error, healthy)
	received := make([]atomic.Int64, healthy)
	for i, c := range peers {
		wg.Go(func() {
			seqs, err := c.collectSeqs(posts, time.Minute, &received[i])
			for i, seq := range seqs {
				if want := start + 1 + int64(i); seq != want && err == nil {
					err = fmt.Errorf("%s: event %d has seq %d; want %d", c.name, i, seq, want)
				}
			}
			if err != nil {
				received[i].Store(posts) // do not hold up the writer
				errs <- err
			}
		})
	}
	text := strings.Repeat("s", body)
	var slowest time.Duration
	began := time.Now()
	for i := range posts {
		waitFor(t, fmt.Sprintf("healthy peers to receive %d posts", i-lag), func() bool {
			for j := range received {
				if received[j].Load() < int64(i-lag) {
					return false
				}
			}
			return true
		})
		t0 := time.Now()
		n.create(t, fmt.Sprintf("post %d", i), text)
		slowest = max(slowest, time.Since(t0))
	}
	elapsed := time.Since(began)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d posts in %v, slowest %v", posts, elapsed, slowest)
	// A publisher waiting on the stalled peer would wait for WriteWait (a
	// minute); a few seconds only allows for a loaded machine.
	if slowest > 3*time.Second {
		t.Errorf("slowest write took %v; want well under WriteWait: the publisher must not wait for peers", slowest)
	}

	// The slow peer now reads: what the kernel held, then the close.
	got := slow.closeCode(readWait)
	if got.code != realtime.CloseTryAgainLater || got.reason == "" {
		t.Errorf("slow peer closed with %d %q (%v); want %d and a reason", got.code, got.reason, got.err, realtime.CloseTryAgainLater)
	}
	var events []frame
	for _, f := range got.frames {
		if f.IsPost() {
			events = append(events, f)
		}
	}
	if err := checkContiguous("slow", events, start); err != nil {
		t.Error(err)
	}
	if len(events) >= posts {
		t.Errorf("slow peer got all %d events; want it cut off", len(events))
	}
	t.Logf("slow peer got %d events before the close", len(events))
	// The others are still connected.
	p := n.post(t, "after", "")
	for _, c := range peers[:3] {
		if f := c.readNonPeers(); !f.IsPost() || f.Seq != p.Seq {
			t.Errorf("%s got %s; want the event of seq %d", c.name, f, p.Seq)
		}
	}
}

// TestHub_ReadLimit: a message of exactly the limit is read (and answered),
// one byte more closes the peer with 1009.
func TestHub_ReadLimit(t *testing.T) {
	n := startNode(t, realtime.Config{})
	c := n.dial(t, dialOpts{name: "big"})
	pad := func(size int) []byte {
		const head, tail = `{"type":"padding","id":1,"pad":"`, `"}`
		return []byte(head + strings.Repeat("x", size-len(head)-len(tail)) + tail)
	}

	c.sendRaw(websocket.TextMessage, pad(realtime.DefaultMaxMessage))
	if f := c.readNonPeers(); f.Type != "error" || f.Code != "bad_request" || f.ID == nil || *f.ID != 1 {
		t.Fatalf("message of DefaultMaxMessage bytes: got %.200s; want error bad_request for the unknown type", f)
	}

	c.conn.SetWriteDeadline(time.Now().Add(readWait))
	c.conn.WriteMessage(websocket.TextMessage, pad(realtime.DefaultMaxMessage+1)) // may fail: the server hangs up
	if got := c.closeCode(readWait); got.code != websocket.CloseMessageTooBig {
		t.Errorf("message of DefaultMaxMessage + 1 bytes: closed with %d (%v); want %d", got.code, got.err, websocket.CloseMessageTooBig)
	}
	waitFor(t, "the peer to be gone", func() bool { return n.srv.Hub.Count() == 0 })
}

// waitFor polls cond until it holds or readWait passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(readWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestHub_Pings: the server pings every PingPeriod; a peer that answers
// stays, a peer that never answers is dropped after PongWait.
func TestHub_Pings(t *testing.T) {
	const pingPeriod, pongWait = 50 * time.Millisecond, 500 * time.Millisecond
	n := startNode(t, realtime.Config{PingPeriod: pingPeriod, PongWait: pongWait})

	answering := n.dial(t, dialOpts{name: "answering"})
	var answered atomic.Int64
	answering.conn.SetPingHandler(func(data string) error {
		answered.Add(1)
		err := answering.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	silent := n.dial(t, dialOpts{name: "silent"})
	var ignored atomic.Int64
	silent.conn.SetPingHandler(func(string) error { ignored.Add(1); return nil })

	var wg sync.WaitGroup
	var answeringEnd, silentEnd closed
	var silentAfter time.Duration
	began := time.Now()
	wg.Go(func() { answeringEnd = answering.readToClose(5 * pongWait / 2) })
	wg.Go(func() {
		silentEnd = silent.readToClose(5 * time.Second)
		silentAfter = time.Since(began)
	})
	wg.Wait()

	if !isTimeout(answeringEnd.err) {
		t.Errorf("answering peer: connection ended with %v; want it open after %v", answeringEnd.err, 5*pongWait/2)
	}
	if got := answered.Load(); got < 5 {
		t.Errorf("answering peer saw %d pings in %v; want at least 5 with a %v period", got, 5*pongWait/2, pingPeriod)
	}
	if isTimeout(silentEnd.err) {
		t.Fatalf("silent peer still connected after 5s; want it dropped after %v", pongWait)
	}
	if silentAfter < pongWait*3/4 {
		t.Errorf("silent peer dropped after %v; want about %v", silentAfter, pongWait)
	}
	if ignored.Load() == 0 {
		t.Errorf("silent peer saw no pings; want some")
	}
	if got := n.srv.Hub.Count(); got != 1 {
		t.Errorf("Hub.Count() = %d; want 1 (only the answering peer)", got)
	}
}

// hubGoroutines returns the stacks of goroutines running realtime code.
func hubGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "lanfeed/realtime.") {
			found = append(found, g)
		}
	}
	return found
}

// waitNoHubGoroutines fails unless every realtime goroutine ends soon.
func waitNoHubGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		left := hubGoroutines()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d hub goroutines left; want none:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHub_Close(t *testing.T) {
	t.Run("SaysGoingAwayAndWaits", func(t *testing.T) {
		n := startNode(t, realtime.Config{})
		for i := range 50 {
			n.create(t, fmt.Sprintf("history %d", i), strings.Repeat("h", 1000))
		}
		var peers []*client
		for i := range 3 {
			peers = append(peers, n.dial(t, dialOpts{name: fmt.Sprintf("peer%d", i), token: n.token}))
		}
		// And one that asked for a replay.
		peers = append(peers, n.dial(t, dialOpts{name: "replaying", query: sinceQuery(0, n.epoch)}))

		ends := make([]closed, len(peers))
		var wg sync.WaitGroup
		for i, c := range peers {
			wg.Go(func() { ends[i] = c.readToClose(readWait) })
		}
		ctx, cancel := context.WithTimeout(context.Background(), readWait)
		defer cancel()
		if err := n.srv.Hub.Close(ctx); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
		waitNoHubGoroutines(t)
		wg.Wait()
		for i, e := range ends {
			if e.code != websocket.CloseGoingAway {
				t.Errorf("%s: closed with %d (%v); want %d", peers[i].name, e.code, e.err, websocket.CloseGoingAway)
			}
		}
		if got := n.srv.Hub.Count(); got != 0 {
			t.Errorf("Hub.Count() after Close = %d; want 0", got)
		}

		if err := n.srv.Hub.Close(ctx); err != nil {
			t.Errorf("second Close() = %v; want nil", err)
		}
		// A peer arriving after Close is told to go away.
		conn, _, err := n.dialRaw(dialOpts{name: "late"})
		if err == nil {
			late := &client{t: t, conn: conn, name: "late"}
			if got := late.closeCode(readWait); got.code != websocket.CloseGoingAway || len(got.frames) != 0 {
				t.Errorf("dial after Close: closed with %d after %d frames; want %d before any frame", got.code, len(got.frames), websocket.CloseGoingAway)
			}
			conn.Close()
		}
		waitNoHubGoroutines(t)
	})

	t.Run("DropsUnansweredPeersWhenCtxEnds", func(t *testing.T) {
		n := startNode(t, realtime.Config{})
		mute := n.dial(t, dialOpts{name: "mute"}) // never reads, so never answers the close
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		began := time.Now()
		err := n.srv.Hub.Close(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close() = %v; want %v", err, context.DeadlineExceeded)
		}
		if d := time.Since(began); d > 900*time.Millisecond {
			t.Errorf("Close() took %v; want it to give up when ctx ends (100ms)", d)
		}
		waitNoHubGoroutines(t)
		if got := mute.closeCode(readWait); got.code != websocket.CloseGoingAway {
			t.Errorf("mute peer: closed with %d; want %d", got.code, websocket.CloseGoingAway)
		}
	})

	// A peer that keeps sending but never reads never answers the close;
	// the close grace (a second) must still end it, and nothing it sends
	// after the goodbye may be written.
	t.Run("TalkativePeerDoesNotHoldClose", func(t *testing.T) {
		n := startNode(t, realtime.Config{})
		c := n.dial(t, dialOpts{name: "talkative", token: n.token})
		stop := make(chan struct{})
		var wg sync.WaitGroup
		defer wg.Wait()
		defer close(stop)
		wg.Go(func() {
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if _, err := c.emitE("posts.create", map[string]string{"title": "still talking"}); err != nil {
					return
				}
			}
		})
		waitFor(t, "the first post", func() bool { return n.seq() > 0 })

		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		before := n.seq()
		began := time.Now()
		if err := n.srv.Hub.Close(ctx); err != nil {
			t.Errorf("Close() = %v after %v; want nil within the close grace", err, time.Since(began))
		}
		if d := time.Since(began); d > 3*time.Second {
			t.Errorf("Close() took %v; want about a second", d)
		}
		if got := n.seq(); got > before+1 { // one emit may have been under way
			t.Errorf("%d posts written after Close began; want at most 1", got-before)
		}
		waitNoHubGoroutines(t)
	})
}
