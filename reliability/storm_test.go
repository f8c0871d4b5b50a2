//go:build linux

package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Reconnect storm (issue 4, item 2): many peers are connected when the node
// restarts (SIGTERM, then a new process on the same port) while posts keep
// arriving; every peer reconnects with backoff and jitter, resumes with
// sync and must end with exactly the node's post set.
func TestStorm_EveryPeerResumesAfterRestart(t *testing.T) {
	peers := 200
	if *soak {
		peers = 1000
	}
	// Reconnect backoff: from backoffMin doubling to backoffMax, full jitter.
	const backoffMin, backoffMax = 50 * time.Millisecond, 2 * time.Second
	// perSource spreads peers over 127.0.0.x source addresses, so a cap on
	// connections per address does not apply to this loopback crowd.
	const perSource = 50
	stormWait := 60 * time.Second

	dir := t.TempDir()
	addr := freeAddr(t)
	n := startNode(t, dir, addr, unlimited...)
	begin := time.Now()
	client := newHTTPClient()
	defer client.CloseIdleConnections()

	var stopping atomic.Bool
	var restartAt atomic.Int64 // UnixNano of SIGTERM; 0 before
	var resumed atomic.Int64   // peers synced again after the restart
	resumedAt := make([]time.Duration, peers)
	fols := make([]*follower, peers)
	var initial sync.WaitGroup
	var wg sync.WaitGroup
	var connMu sync.Mutex
	conns := map[*websocket.Conn]bool{}
	initial.Add(peers)
	for i := range peers {
		fols[i] = newFollower()
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := fols[i]
			d := dialer(fmt.Sprintf("127.0.0.%d", 2+i/perSource))
			backoff := backoffMin
			first, counted := true, false
			for attempt := 0; attempt < 1000 && !stopping.Load(); attempt++ {
				conn, done, err := f.connect(d, "ws://"+addr+"/ws?"+f.query())
				if err != nil {
					time.Sleep(rand.N(backoff) + time.Millisecond)
					backoff = min(2*backoff, backoffMax)
					continue
				}
				backoff = backoffMin
				if first {
					first = false
					initial.Done()
				} else if r := restartAt.Load(); r != 0 && !counted {
					counted = true
					resumedAt[i] = time.Since(time.Unix(0, r))
					resumed.Add(1)
				}
				connMu.Lock()
				if stopping.Load() { // the test closed every connection already
					conn.Close()
				}
				conns[conn] = true
				connMu.Unlock()
				<-done
				connMu.Lock()
				delete(conns, conn)
				connMu.Unlock()
				conn.Close()
				if !stopping.Load() {
					time.Sleep(rand.N(backoff) + time.Millisecond)
				}
			}
			if first {
				initial.Done()
			}
		}()
	}
	waitGroup(t, &initial, stormWait, "peers to connect")
	connectedAt := time.Now()

	// One writer, posting all along; a refused or failed write is retried.
	var acked sync.Map
	var nAcked atomic.Int64
	writeCtx, stopWriting := context.WithCancel(context.Background())
	var currentURL, currentToken atomic.Value
	currentURL.Store(n.url)
	currentToken.Store(n.token)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; i < 100000 && writeCtx.Err() == nil; i++ {
			title := fmt.Sprintf("storm #%d", i)
			status, p, _, err := createPost(writeCtx, client, currentURL.Load().(string), currentToken.Load().(string), title, "during the storm")
			if err == nil && status == http.StatusCreated {
				acked.Store(p.ID, p)
				nAcked.Add(1)
			} else {
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { stopWriting(); <-writerDone }) // also when a check below fails

	// Restart once the old process has taken a few writes (a fixed sleep
	// was not enough when the disk stalled an fsync for a few hundred ms).
	waitAcked(t, &nAcked, 5, stormWait, "posts acknowledged before the restart")
	ackedBefore := nAcked.Load()
	restartAt.Store(time.Now().UnixNano())
	n.stop(t)
	down := time.Now()
	n = startNode(t, dir, addr, unlimited...)
	currentURL.Store(n.url)
	currentToken.Store(n.token)
	upAfter := time.Since(down)
	stopTook := down.Sub(time.Unix(0, restartAt.Load()))

	// Time to 99% and to 100% reconnected and resumed.
	var at99 time.Duration
	deadline := time.Now().Add(stormWait)
	for resumed.Load() < int64(peers) && time.Now().Before(deadline) {
		if at99 == 0 && resumed.Load()*100 >= int64(peers)*99 {
			at99 = time.Since(time.Unix(0, restartAt.Load()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := resumed.Load(); got < int64(peers) {
		t.Fatalf("%d of %d peers resumed within %v of the restart", got, peers, stormWait)
	}
	times := slices.Clone(resumedAt)
	slices.Sort(times)
	if at99 == 0 {
		at99 = percentile(times, 0.99)
	}

	waitAcked(t, &nAcked, ackedBefore+5, stormWait, "posts acknowledged by the new process")
	stopWriting()
	<-writerDone
	if ackedBefore == 0 || nAcked.Load() == ackedBefore {
		t.Errorf("posts acknowledged: %d before the restart, %d in all; want some on each side", ackedBefore, nAcked.Load())
	}

	// Every peer must converge on exactly the node's post set.
	want, seq := listAll(t, client, n.url)
	acked.Range(func(k, v any) bool {
		if _, ok := want[k.(string)]; !ok {
			t.Errorf("acknowledged post %s is not in GET /api/posts", k)
		}
		return true
	})
	deadline = time.Now().Add(stormWait)
	for _, f := range fols {
		for {
			f.mu.Lock()
			last := f.last
			f.mu.Unlock()
			if last >= seq || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	connMu.Lock()
	stopping.Store(true)
	for c := range conns {
		c.Close()
	}
	connMu.Unlock()
	waitGroup(t, &wg, stormWait, "peers to stop")

	bad := 0
	for i, f := range fols {
		f.mu.Lock()
		ok := f.last == seq && len(f.posts) == len(want) && len(f.errs) == 0
		for id, p := range want {
			if f.posts[id] != p {
				ok = false
			}
		}
		if !ok {
			bad++
			if bad <= 5 {
				t.Errorf("peer %d: at seq %d with %d posts, errors %q; want seq %d with the node's %d posts", i, f.last, len(f.posts), f.errs, seq, len(want))
			}
		}
		f.mu.Unlock()
	}
	if bad > 0 {
		t.Errorf("%d of %d peers do not hold exactly the node's post set", bad, peers)
	}
	n.stop(t)
	t.Logf("FIGURES storm: peers=%d posts=%d acknowledged=%d (%d before SIGTERM) seq=%d initial-connect=%v old-process-exit=%v new-process-up=%v to-99%%-resumed=%v to-100%%=%v (from SIGTERM)",
		peers, len(want), nAcked.Load(), ackedBefore, seq, connectedAt.Sub(begin).Round(time.Millisecond), stopTook.Round(time.Millisecond), upAfter.Round(time.Millisecond),
		at99.Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
}

// waitGroup waits for wg at most within, failing the test beyond.
func waitGroup(t *testing.T, wg *sync.WaitGroup, within time.Duration, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		t.Fatalf("waited %v for %s", within, what)
	}
}

// waitAcked waits until n reaches at least want, or fails the test.
func waitAcked(t *testing.T, n *atomic.Int64, want int64, within time.Duration, what string) {
	t.Helper()
	waitUntil(t, within, func() (bool, string) {
		got := n.Load()
		return got >= want, fmt.Sprintf("%s: %d, want %d,", what, got, want)
	})
}
