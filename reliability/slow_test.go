//go:build linux

package reliability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanfeed/app"
	"lanfeed/feed"
	"lanfeed/realtime"
)

// Tuning of the in-process node for the slow-peer test; lanfeedd has no
// flags for these, and the defaults (25 s ping, 60 s pong wait, 1 MiB queue)
// would make the test minutes long.
const (
	slowPingPeriod = 300 * time.Millisecond
	// slowPongWait: silent peers are gone after this. Peers that do not read
	// do not answer pings either; on loopback the kernel lets the server's
	// send buffer grow to tcp_wmem's max (4 MiB here) before a write blocks,
	// so within this test they go by the pong wait, not by 1013.
	slowPongWait  = 2 * time.Second
	slowWriteWait = time.Second // a stalled socket write fails after this
	// slowRecvBuf shrinks a non-reading peer's socket receive buffer (bytes)
	// so its queue fills after kilobytes rather than megabytes.
	slowRecvBuf = 4096
	// slowHeapLimit bounds HeapInuse growth while slow peers pile up.
	slowHeapLimit = 64 << 20
)

// Slow and silent peers (issue 4, item 3): a tenth of the peers stop
// reading and a few stop answering pings. They must be closed (1013, or
// after the pong wait) while the others' p99 delivery latency stays within
// 2x of an unloaded run, memory stays bounded and goroutines and file
// descriptors return to their baseline.
func TestSlowPeers_AreDroppedWithoutHurtingOthers(t *testing.T) {
	// p99 on a shared two-core machine is at the mercy of the scheduler: one
	// retry of the whole round. A real regression (a publisher that waits for
	// slow peers) fails both.
	for attempt := 1; ; attempt++ {
		if slowRound(t, attempt == 2) || attempt == 2 || t.Failed() {
			return
		}
		t.Logf("p99 over the limit on attempt %d; measuring again", attempt)
	}
}

// slowRound runs the test once; it fails t on everything but the latency
// comparison, which it reports (and on the last attempt fails).
func slowRound(t *testing.T, last bool) (latencyOK bool) {
	// queueBytes holds some 25 events; the soak's 450 readers on a small
	// machine need more slack, and smaller events keep the load sane.
	normalN, slowN, silentN, posts := 45, 5, 3, 150
	interval, bodyPad, queueBytes := 5*time.Millisecond, 1200, 32<<10
	if *soak {
		normalN, slowN, silentN, posts = 450, 50, 10, 600
		interval, bodyPad, queueBytes = 20*time.Millisecond, 300, 256<<10
	}

	baseG, baseFD := settle(0, 0, 0)
	srv, err := app.Open(context.Background(), app.Config{
		DataDir: t.TempDir(), Name: "slow", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Hub: realtime.Config{PingPeriod: slowPingPeriod, PongWait: slowPongWait, WriteWait: slowWriteWait, QueueBytes: queueBytes},
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			srv.Close(context.Background())
		}
	}()
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	wsURL := "ws" + strings.TrimPrefix(srv.URLs()[0], "http") + "ws?name=p"

	// Normal peers read everything and note each post's delivery latency by
	// phase (the first letter of its title).
	var latMu sync.Mutex
	lat := map[byte][]time.Duration{}
	var normalClosed atomic.Int64
	var readers sync.WaitGroup
	var normals []*websocket.Conn
	for i := range normalN {
		c := dialPeer(t, wsURL, fmt.Sprintf("127.0.0.%d", 2+i/50), 0)
		normals = append(normals, c)
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				_, b, err := c.ReadMessage()
				if err != nil {
					if !errors.Is(err, net.ErrClosed) && normalClosed.Add(1) <= 5 {
						t.Logf("normal peer %d ended: %v", i, err)
					}
					return
				}
				now := time.Now()
				fr, ok, _ := decode(b)
				if !ok || fr.Event != "posts" {
					continue
				}
				var ev postEvent
				if jsonUnmarshal(fr.Data, &ev) != nil || ev.Post.Title == "" {
					continue
				}
				ns, err := strconv.ParseInt(ev.Post.Body[:strings.IndexByte(ev.Post.Body, ' ')], 10, 64)
				if err != nil {
					continue
				}
				latMu.Lock()
				lat[ev.Post.Title[0]] = append(lat[ev.Post.Title[0]], now.Sub(time.Unix(0, ns)))
				latMu.Unlock()
			}
		}()
	}
	waitCount(t, srv.Hub, normalN)

	write := func(phase byte, n int, every func(i int)) {
		for i := range n {
			body := strconv.FormatInt(time.Now().UnixNano(), 10) + " " + strings.Repeat("s", bodyPad)
			if _, err := srv.Service.Create(context.Background(), feed.NewPost{Title: fmt.Sprintf("%c %d", phase, i), Body: body}, feed.Caller{}); err != nil {
				t.Fatalf("Create: %v", err)
			}
			if every != nil {
				every(i)
			}
			time.Sleep(interval)
		}
	}
	waitDelivered := func(phase byte, n int) []time.Duration {
		deadline := time.Now().Add(waitFor)
		for {
			latMu.Lock()
			got := len(lat[phase])
			l := slices.Clone(lat[phase])
			latMu.Unlock()
			if got >= n*normalN {
				slices.Sort(l)
				return l
			}
			if time.Now().After(deadline) {
				t.Fatalf("phase %c: %d of %d deliveries to normal peers within %v", phase, got, n*normalN, waitFor)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// Phase A: nobody misbehaves.
	write('A', posts, nil)
	base := waitDelivered('A', posts)
	heapBefore := heapInuse()

	// Phase B: slow peers never read (tiny receive buffer), silent ones read
	// but never answer a ping.
	var slows []*websocket.Conn
	slowSince := time.Now()
	for i := range slowN {
		slows = append(slows, dialPeer(t, wsURL+"-slow", fmt.Sprintf("127.0.1.%d", 2+i/50), slowRecvBuf))
	}
	// Note how long the hub keeps the slow peers.
	slowGone := make(chan []time.Duration, 1)
	go func() {
		var gone []time.Duration
		seen := map[string]bool{}
		for deadline := time.Now().Add(slowPongWait + 3*waitFor); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			now := map[string]bool{}
			for _, p := range srv.Hub.Peers() {
				if p.Name == "p-slow" {
					now[p.ID] = true
					seen[p.ID] = true
				}
			}
			for id := range seen {
				if !now[id] {
					delete(seen, id)
					gone = append(gone, time.Since(slowSince))
				}
			}
			if len(gone) == slowN {
				break
			}
		}
		slowGone <- gone
	}()
	type silentEnd struct {
		after time.Duration
		err   error
	}
	silentEnds := make(chan silentEnd, silentN)
	for i := range silentN {
		c := dialPeer(t, wsURL, "127.0.2.2", 0)
		c.SetPingHandler(func(string) error { return nil })
		began := time.Now()
		go func() {
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(slowPongWait + waitFor))
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					silentEnds <- silentEnd{time.Since(began), err}
					return
				}
			}
		}()
		_ = i
	}
	waitCount(t, srv.Hub, normalN+slowN+silentN)
	var heapPeak uint64
	write('B', posts, func(i int) {
		if i%50 == 0 { // no GC here: it would stall the very deliveries we time
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			heapPeak = max(heapPeak, m.HeapInuse)
		}
	})
	loaded := waitDelivered('B', posts)
	heapPeak = max(heapPeak, heapInuse())

	// The misbehaving peers must be gone: keep writing (bounded) until they are.
	deadline := time.Now().Add(slowPongWait + 3*waitFor)
	extra := 0
	for srv.Hub.Count() > normalN && time.Now().Before(deadline) {
		write('C', 10, nil)
		extra += 10
	}
	if got := srv.Hub.Count(); got != normalN {
		t.Errorf("Hub.Count() = %d after the slow and silent peers had their chance; want %d (the normal peers)", got, normalN)
	}
	for range silentN {
		select {
		case e := <-silentEnds:
			if e.after > slowPongWait+2*time.Second {
				t.Errorf("silent peer dropped %v after it went silent; want within the pong wait %v (+2s)", e.after, slowPongWait)
			}
		case <-time.After(waitFor):
			t.Errorf("a silent peer was not dropped within %v", slowPongWait+waitFor)
		}
	}
	gone := <-slowGone
	slices.Sort(gone)
	if len(gone) < slowN {
		t.Errorf("%d of %d slow peers were dropped; want all", len(gone), slowN)
	}
	codes := map[string]int{}
	for _, c := range slows { // what a slow peer finds once it reads again
		c.SetReadDeadline(time.Now().Add(waitFor))
		var err error
		for i := 0; i < 100000 && err == nil; i++ {
			_, _, err = c.ReadMessage()
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			codes[strconv.Itoa(ce.Code)]++
			if ce.Code != realtime.CloseTryAgainLater {
				t.Errorf("slow peer closed with %d %q; want 1013 (or a dropped connection)", ce.Code, ce.Text)
			}
		} else {
			codes["dropped"]++
		}
		c.Close()
	}
	if n := normalClosed.Load(); n > 0 {
		t.Errorf("%d normal peers were disconnected; want none", n)
	}

	p99A, p99B := percentile(base, 0.99), percentile(loaded, 0.99)
	limit := max(2*p99A, p99A+50*time.Millisecond)
	latencyOK = p99B <= limit
	if !latencyOK && last {
		t.Errorf("p99 delivery latency with slow peers = %v; want <= %v (unloaded p99 %v)", p99B, limit, p99A)
	}
	if growth := int64(heapPeak) - int64(heapBefore); growth > slowHeapLimit {
		t.Errorf("HeapInuse grew by %d MiB with slow peers; want <= %d MiB", growth>>20, slowHeapLimit>>20)
	}

	// Everything goes away with the peers and the node.
	for _, c := range normals {
		c.Close()
	}
	readers.Wait()
	if err := srv.Close(context.Background()); err != nil {
		t.Errorf("Close() = %v", err)
	}
	closed = true
	g, fds := settle(baseG, baseFD, 10*time.Second)
	if g > baseG+2 || fds > baseFD+2 {
		t.Errorf("after Close: %d goroutines, %d fds; want back to %d and %d (+2)", g, fds, baseG, baseFD)
		if g > baseG+2 {
			buf := make([]byte, 1<<16)
			t.Logf("goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		}
	}
	t.Logf("FIGURES slow: peers=%d (normal %d, slow %d, silent %d) posts=%d+%d+%d p99 unloaded=%v loaded=%v (limit %v) p50 %v/%v slow-peers-dropped-after=%v..%v (pong wait %v) slow-peer-endings=%v heap-growth=%.1fMiB goroutines %d->%d fds %d->%d",
		normalN+slowN+silentN, normalN, slowN, silentN, posts, posts, extra, p99A.Round(time.Microsecond), p99B.Round(time.Microsecond),
		limit.Round(time.Microsecond), percentile(base, 0.5).Round(time.Microsecond), percentile(loaded, 0.5).Round(time.Microsecond),
		percentile(gone, 0).Round(time.Millisecond), percentile(gone, 1).Round(time.Millisecond), slowPongWait, codes, float64(int64(heapPeak)-int64(heapBefore))/(1<<20), baseG, g, baseFD, fds)
	return latencyOK
}

// dialPeer connects a websocket peer from src; recvBuf > 0 shrinks its
// socket receive buffer before the connection is made.
func dialPeer(t *testing.T, url, src string, recvBuf int) *websocket.Conn {
	t.Helper()
	nd := &net.Dialer{Timeout: waitFor, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	if recvBuf > 0 {
		nd.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, recvBuf)
			})
			return errors.Join(err, serr)
		}
	}
	d := websocket.Dialer{HandshakeTimeout: waitFor, NetDialContext: nd.DialContext}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", url, src, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitCount waits until the hub has n peers.
func waitCount(t *testing.T, h *realtime.Hub, n int) {
	t.Helper()
	waitUntil(t, waitFor, func() (bool, string) {
		got := h.Count()
		return got == n, fmt.Sprintf("Hub.Count() = %d, want %d,", got, n)
	})
}

// waitUntil polls done every 5 ms until it reports true; after within it
// fails the test with done's last account of what it saw.
func waitUntil(t *testing.T, within time.Duration, done func() (ok bool, saw string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, saw := done()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s after %v", saw, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// settle polls (at most within) until goroutines and open fds are at most
// g and fds, and returns the last counts; with within 0 it just counts.
func settle(g, fds int, within time.Duration) (int, int) {
	deadline := time.Now().Add(within)
	for {
		ng, nf := runtime.NumGoroutine(), openFDs()
		if within == 0 || (ng <= g && nf <= fds) || time.Now().After(deadline) {
			return ng, nf
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents)
}
