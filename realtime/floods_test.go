package realtime_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lanfeed/realtime"

	"github.com/gorilla/websocket"
)

// TestFloods_FloodingPeerLimitedThenClosed: a writer that sends far more
// emits than its bucket holds gets acks for the burst, rate_limited errors
// (nothing written) for the rest, and once it has been refused three bursts
// in a row, close 1008 with a reason.
func TestFloods_FloodingPeerLimitedThenClosed(t *testing.T) {
	const burst = 5
	// A rate this low refills nothing while the flood lasts.
	const cooldown = 300 * time.Millisecond
	n := startNode(t, realtime.Config{WriteBurst: burst, WriteRate: 0.01, FloodCooldown: cooldown})
	flooder := n.dial(t, dialOpts{name: "flooder", token: n.token})
	before := n.seq()
	for i := range 200 {
		if _, err := flooder.emitE("posts.create", map[string]string{"title": fmt.Sprint("flood ", i)}); err != nil {
			break // closed under us: expected once the limit is abused
		}
	}
	end := flooder.closeCode(readWait)
	if end.code != websocket.ClosePolicyViolation {
		t.Errorf("flooder closed with %d %q (%v); want %d", end.code, end.reason, end.err, websocket.ClosePolicyViolation)
	}
	if !strings.Contains(end.reason, "too many writes") {
		t.Errorf("close reason = %q; want it to say too many writes", end.reason)
	}
	acks, limited := 0, 0
	for _, f := range end.frames {
		switch {
		case f.Type == "ack":
			acks++
		case f.Type == "error" && f.Code == "rate_limited":
			limited++
			if f.ID == nil || f.Message == "" {
				t.Errorf("rate_limited error %s; want the emit id and a message", f)
			}
		case f.IsPeers():
		default:
			t.Errorf("flooder got %s; want acks, rate_limited errors and presence only", f)
		}
	}
	if acks != burst {
		t.Errorf("flooder got %d acks; want %d (its burst)", acks, burst)
	}
	// Every refusal but the last (which the close replaces) is answered.
	if want := 3*burst - 1; limited != want {
		t.Errorf("flooder got %d rate_limited errors; want %d", limited, want)
	}
	if got := n.seq() - before; got != int64(acks) {
		t.Errorf("%d posts written; want %d, one per ack (refused emits write nothing)", got, acks)
	}
	waitFor(t, "the flooder to be gone", func() bool { return n.srv.Hub.Count() == 0 })

	// Reconnecting at once for a fresh burst is refused for the cooldown.
	conn, resp, err := n.dialRaw(dialOpts{name: "flooder-again", token: n.token})
	if err == nil {
		conn.Close()
		t.Fatalf("reconnect right after 1008 succeeded; want 429")
	}
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("reconnect right after 1008 = %v (%v); want 429 with Retry-After", resp, err)
	}
	var e apiError
	if raw, _ := io.ReadAll(resp.Body); json.Unmarshal(raw, &e) != nil || e.Code != "rate_limited" {
		t.Errorf("reconnect refused with body %s; want a rate_limited error", raw)
	}
	time.Sleep(cooldown)
	again := n.dial(t, dialOpts{name: "flooder-later", token: n.token})
	id := again.emit("posts.create", map[string]string{"title": "after the cooldown"})
	if f := again.readNonPeers(); f.Type != "ack" || *f.ID != id {
		t.Errorf("after the cooldown: got %s; want the ack of emit %d", f, id)
	}
}

// TestFloods_PacedWriterNeverLimited: a writer within the rate is never
// refused, however long it goes on past its burst.
func TestFloods_PacedWriterNeverLimited(t *testing.T) {
	n := startNode(t, realtime.Config{WriteBurst: 2, WriteRate: 50})
	w := n.dial(t, dialOpts{name: "paced", token: n.token})
	for i := range 20 { // ten bursts' worth at half the rate
		id := w.emit("posts.create", map[string]string{"title": fmt.Sprint("paced ", i)})
		if f := w.readNonPeers(); f.Type != "ack" || f.ID == nil || *f.ID != id {
			t.Fatalf("emit %d: got %s; want its ack", i, f)
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// TestFloods_FlooderDoesNotSlowOthers: a flooder writes with the token as
// fast as it can, is closed with 1008, keeps trying to reconnect (every
// 5 ms while refused), and floods again whenever it gets in. Meanwhile a
// reader receives every event in order, and the p99 of its delivery
// latency stays within twice the unloaded p99 (or 50 ms above it, for
// timer noise on a loaded machine). Flooded and quiet rounds alternate, so
// that load from elsewhere on the machine weighs on both alike, and the
// comparison gets up to three attempts against stray stalls.
func TestFloods_FlooderDoesNotSlowOthers(t *testing.T) {
	const (
		attempts = 3
		rounds   = 8
		perRound = 20 // probes per round and phase
		interval = 5 * time.Millisecond
	)
	// A small burst keeps the flooder's accepted writes few, and a short
	// cooldown lets it back in often: the test is about the refused ones
	// not costing the others.
	n := startNode(t, realtime.Config{WriteBurst: 2, WriteRate: 1, FloodCooldown: 100 * time.Millisecond})
	reader := n.dial(t, dialOpts{name: "reader"})

	// The reader records when each probe arrives and checks that the post
	// stream (probes and the flooder's accepted writes) has no gap.
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	var lastSeen atomic.Int64
	lastSeen.Store(n.seq())
	readErr := make(chan error, 1)
	stopReading := make(chan struct{})
	go func() {
		for {
			f, err := reader.next(readWait)
			if err != nil {
				select {
				case <-stopReading:
					readErr <- nil
				default:
					readErr <- err
				}
				return
			}
			if !f.IsPost() {
				continue
			}
			if want := lastSeen.Load() + 1; f.Seq != want {
				readErr <- fmt.Errorf("reader got seq %d; want %d (every event, in order)", f.Seq, want)
				return
			}
			var d postData
			if err := json.Unmarshal(f.Data, &d); err != nil {
				readErr <- fmt.Errorf("posts event %s: %v", f, err)
				return
			}
			if strings.HasPrefix(d.Post.Title, "probe ") {
				mu.Lock()
				arrived[d.Post.Title] = time.Now()
				mu.Unlock()
			}
			lastSeen.Store(f.Seq)
		}
	}()

	// run commits probes at a steady pace and returns their latencies.
	run := func(phase string) []time.Duration {
		sent := make(map[string]time.Time, perRound)
		for i := range perRound {
			title := fmt.Sprintf("probe %s %d", phase, i)
			sent[title] = time.Now()
			n.create(t, title, "")
			time.Sleep(interval)
		}
		var lat []time.Duration
		waitFor(t, "the reader to receive the "+phase+" probes", func() bool {
			mu.Lock()
			defer mu.Unlock()
			lat = lat[:0]
			for title, t0 := range sent {
				at, ok := arrived[title]
				if !ok {
					return false
				}
				lat = append(lat, at.Sub(t0))
			}
			return true
		})
		return lat
	}

	// The flooder runs in its own process on the other CPU when it can: a
	// flooder on another machine does not take the node's CPU, and a
	// goroutine burning CPU in this process alone (no traffic at all) raises
	// the reader's p99 three to seven times here. Then the limit is a real
	// 2x; in-process, 50 ms above quiet allows for the shared CPU.
	fl, separate := startFlooder(t, n)
	defer fl.stop()
	slack := 50 * time.Millisecond
	if separate {
		slack = 2 * time.Millisecond // timer and scheduler granularity at sub-millisecond p99s
	}

	p99 := func(l []time.Duration) time.Duration {
		slices.Sort(l)
		return l[(len(l)*99)/100-1]
	}
	// A stall from elsewhere on a shared machine can hit one phase's worst
	// probes; the flooder slowing the reader would show in every attempt.
	var base, load, limit time.Duration
	for attempt := 1; attempt <= attempts; attempt++ {
		var quietLat, floodLat []time.Duration
		for r := range rounds {
			fl.set(false)
			quietLat = append(quietLat, run(fmt.Sprint("quiet ", attempt, r))...)
			fl.set(true)
			if attempt == 1 && r == 0 {
				time.Sleep(100 * time.Millisecond) // its first flood is under way
			}
			floodLat = append(floodLat, run(fmt.Sprint("flood ", attempt, r))...)
		}
		fl.set(false)
		base, load = p99(quietLat), p99(floodLat)
		limit = max(2*base, base+slack)
		t.Logf("attempt %d: reader p99 %v quiet, %v flooded; limit %v", attempt, base, load, limit)
		if load <= limit {
			break
		}
	}

	// The reader got every probe; it must also get every flood write.
	waitFor(t, "the reader to receive every event", func() bool { return lastSeen.Load() == n.seq() })
	close(stopReading)
	reader.conn.Close() // ends the reader goroutine
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}

	c := fl.stop()
	t.Logf("flooder (own process on another CPU: %v): %d connections, %d closed with 1008, %d refusals seen, %d reconnects refused",
		separate, c.Connects, c.Closes1008, c.Refusals, c.Barred)
	if c.Closes1008 < 2 || c.Refusals == 0 || c.Barred == 0 {
		t.Errorf("flooder: %d closes with 1008, %d refusals, %d refused reconnects; want it limited, closed more than once and refused",
			c.Closes1008, c.Refusals, c.Barred)
	}
	if load > limit {
		t.Errorf("reader p99 with the flooder = %v in each of %d attempts (last); want at most %v (quiet p99 %v)", load, attempts, limit, base)
	}
}

// TestFloods_HTTPWritesLimitedPerAddress: REST writes beyond an address's
// burst get 429 rate_limited with Retry-After and write nothing; reads are
// not limited; the bucket refills.
func TestFloods_HTTPWritesLimitedPerAddress(t *testing.T) {
	const burst = 4
	// The buckets' clock stands still unless the test moves it: however
	// slow the machine, no token comes back before the test says so.
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	n := startNode(t, realtime.Config{HTTPWriteBurst: burst, HTTPWriteRate: 5, Now: now})
	before := n.seq()
	for i := range burst {
		n.post(t, fmt.Sprint("within ", i), "")
	}
	var e apiError
	resp := n.rawDo(t, "POST", "/api/posts", bearer(n.token), `{"title":"one too many"}`, &e)
	if resp.StatusCode != http.StatusTooManyRequests || e.Code != "rate_limited" || e.Message == "" {
		t.Errorf("POST over the limit = %d %+v; want %d rate_limited with a message", resp.StatusCode, e, http.StatusTooManyRequests)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q; want a whole number of seconds, at least 1", resp.Header.Get("Retry-After"))
	}
	// Failed token guesses are throttled too.
	if status := n.do(t, "POST", "/api/posts", bearer("guess"), map[string]string{"title": "x"}, &e); status != http.StatusTooManyRequests {
		t.Errorf("POST with a wrong token over the limit = %d; want %d", status, http.StatusTooManyRequests)
	}
	if got := n.seq() - before; got != burst {
		t.Errorf("%d posts written; want %d", got, burst)
	}
	for range 10 {
		if status := n.do(t, "GET", "/api/posts", nil, nil, nil); status != http.StatusOK {
			t.Fatalf("GET /api/posts while limited = %d; want 200 (reads are not limited)", status)
		}
	}
	clock.Add(int64(250 * time.Millisecond)) // 5 a second: one token back
	n.post(t, "after the refill", "")
}

// rawDo is do that also returns the response, for its headers.
func (n *node) rawDo(t *testing.T, method, path string, hdr http.Header, body string, out *apiError) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, n.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := n.ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		*out = apiError{}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, raw, err)
		}
	}
	return resp
}

// TestFloods_ConnectionCaps: beyond the per-address cap, and beyond the
// total cap, the upgrade is refused with 503 and a JSON error; a slot
// freed by a peer that left can be taken again.
func TestFloods_ConnectionCaps(t *testing.T) {
	refused := func(t *testing.T, n *node, what string) {
		t.Helper()
		conn, resp, err := n.dialRaw(dialOpts{name: "one-too-many"})
		if err == nil {
			conn.Close()
			t.Fatalf("%s: dial succeeded; want 503", what)
		}
		if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s: dial = %v (%v); want HTTP 503", what, resp, err)
		}
		var e apiError
		raw, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(raw, &e); err != nil || e.Code != "rate_limited" || !strings.Contains(e.Message, "too many connections") {
			t.Errorf("%s: body %s; want a rate_limited error saying too many connections", what, raw)
		}
	}

	t.Run("PerAddress", func(t *testing.T) {
		n := startNode(t, realtime.Config{MaxPeersPerAddr: 3})
		var peers []*client
		for i := range 3 {
			peers = append(peers, n.dial(t, dialOpts{name: fmt.Sprint("p", i)}))
		}
		refused(t, n, "4th peer from 127.0.0.1")
		// Another address (::1 or 127.0.0.2) is not affected by this one's cap.
		if other := otherLoopback(t, n); other != nil {
			c := n.dial(t, dialOpts{name: "other-address", dialer: other})
			c.conn.Close()
		}
		peers[0].conn.Close()
		waitFor(t, "the slot of the peer that left", func() bool {
			conn, _, err := n.dialRaw(dialOpts{name: "again"})
			if err != nil {
				return false
			}
			conn.Close()
			return true
		})
	})

	t.Run("Total", func(t *testing.T) {
		n := startNode(t, realtime.Config{MaxPeers: 2})
		n.dial(t, dialOpts{name: "a"})
		n.dial(t, dialOpts{name: "b"})
		refused(t, n, "3rd peer in total")
		if got := n.srv.Hub.Count(); got != 2 {
			t.Errorf("Count() = %d; want 2", got)
		}
	})
}

// otherLoopback returns a dialer whose connections come from 127.0.0.2, or
// nil where that address cannot be used.
func otherLoopback(t *testing.T, n *node) *websocket.Dialer {
	t.Helper()
	local := &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}
	probe, err := (&net.Dialer{LocalAddr: local}).Dial("tcp", n.ts.Listener.Addr().String())
	if err != nil {
		t.Logf("no second loopback address (%v): skipping that check", err)
		return nil
	}
	probe.Close()
	return &websocket.Dialer{
		HandshakeTimeout: readWait,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return (&net.Dialer{LocalAddr: local}).DialContext(ctx, network, addr)
		},
	}
}

// floodCounts is what a flooder saw.
type floodCounts struct {
	Connects, Closes1008, Refusals, Barred int64
}

// flood writes with the token as fast as it can while on() holds: each
// connection sends up to 1000 creates, is closed with 1008, and retries
// every 5 ms while its address is barred. It returns when stop is closed.
func flood(t *testing.T, dial func() (*websocket.Conn, *http.Response, error), on func() bool, stop <-chan struct{}) floodCounts {
	var c floodCounts
	for {
		select {
		case <-stop:
			return c
		default:
		}
		if !on() {
			time.Sleep(time.Millisecond)
			continue
		}
		conn, resp, err := dial()
		if err != nil {
			if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
				c.Barred++
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		c.Connects++
		cl := &client{t: t, conn: conn, name: "flooder"}
		done := make(chan closed, 1)
		go func() { done <- cl.readToClose(readWait) }()
		for k := 0; k < 1000; k++ { // not closed after 1000: the caller's checks fail
			if _, err := cl.emitE("posts.create", map[string]string{"title": fmt.Sprint("flood ", k)}); err != nil {
				break
			}
		}
		end := <-done
		conn.Close()
		if end.code == websocket.ClosePolicyViolation {
			c.Closes1008++
		}
		for _, f := range end.frames {
			if f.Code == "rate_limited" {
				c.Refusals++
			}
		}
	}
}

// flooder is a running flood: set turns it on and off, stop ends it and
// returns its counts.
type flooder struct {
	set  func(on bool)
	stop func() floodCounts
}

// floodEnv carries the websocket URL to a flooder child process.
const floodEnv = "LANFEED_TEST_FLOOD_URL"

// startFlooder starts a flood against n, paused. Where it can, the flooder
// is this test binary again (TestFlooderProcess) pinned to CPU 1 and this
// process to CPU 0; separate reports whether that worked.
func startFlooder(t *testing.T, n *node) (fl *flooder, separate bool) {
	q := url.Values{"name": {"flooder"}, "token": {n.token}}
	if _, err := exec.LookPath("taskset"); err == nil {
		if restore, ok := pinProcess(0); ok {
			cmd := exec.Command("taskset", "-c", "1", os.Args[0], "-test.run=^TestFlooderProcess$")
			cmd.Env = append(os.Environ(), floodEnv+"="+n.wsURL(q))
			cmd.Stderr = os.Stderr
			in, err1 := cmd.StdinPipe()
			out, err2 := cmd.StdoutPipe()
			if err1 == nil && err2 == nil && cmd.Start() == nil {
				var once sync.Once
				var counts floodCounts
				return &flooder{
					set: func(on bool) { fmt.Fprintln(in, on) },
					stop: func() floodCounts {
						once.Do(func() {
							in.Close()
							b, _ := io.ReadAll(out)
							if err := cmd.Wait(); err != nil {
								t.Errorf("flooder process: %v", err)
							}
							restore()
							if i := bytes.LastIndex(b, []byte("FLOOD ")); i < 0 || json.NewDecoder(bytes.NewReader(b[i+6:])).Decode(&counts) != nil {
								t.Errorf("flooder process printed %q; want its counts", b)
							}
						})
						return counts
					},
				}, true
			}
			restore()
		}
	}
	var on atomic.Bool
	stop := make(chan struct{})
	result := make(chan floodCounts, 1)
	go func() {
		result <- flood(t, func() (*websocket.Conn, *http.Response, error) {
			return n.dialRaw(dialOpts{name: "flooder", token: n.token})
		}, on.Load, stop)
	}()
	var once sync.Once
	var counts floodCounts
	return &flooder{
		set: on.Store,
		stop: func() floodCounts {
			once.Do(func() { close(stop); counts = <-result })
			return counts
		},
	}, false
}

// TestFlooderProcess is the flooder of TestFloods_FlooderDoesNotSlowOthers
// when it runs as its own process; otherwise it is skipped. Lines "true" and
// "false" on stdin turn the flood on and off; at the end of stdin it prints
// its counts.
func TestFlooderProcess(t *testing.T) {
	u := os.Getenv(floodEnv)
	if u == "" {
		t.Skip("runs only as the flooder process of TestFloods_FlooderDoesNotSlowOthers")
	}
	var on atomic.Bool
	stop := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			on.Store(sc.Text() == "true")
		}
		close(stop)
	}()
	d := &websocket.Dialer{HandshakeTimeout: readWait}
	c := flood(t, func() (*websocket.Conn, *http.Response, error) { return d.Dial(u, nil) }, on.Load, stop)
	b, _ := json.Marshal(c)
	fmt.Printf("FLOOD %s\n", b)
}
