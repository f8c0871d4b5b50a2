package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"lanfeed/client"
	"lanfeed/feed"
)

// Backoff of the followers under test: small, so that reconnecting takes
// milliseconds.
const (
	testMinBackoff = 2 * time.Millisecond
	testMaxBackoff = 20 * time.Millisecond
)

// A follower that loses its connection resumes where it was: its handler
// sees every change once, in seq order, and the latest state of a post
// changed meanwhile.
func TestFollower_ResumesWithoutGapOrDuplicate(t *testing.T) {
	tests := []struct {
		name string
		// drop ends the follower's connection and returns the node to
		// write to from then on.
		drop func(t *testing.T, n *node, p *proxy) *node
	}{
		{"ConnectionCut", func(t *testing.T, n *node, p *proxy) *node {
			p.cut()
			return n
		}},
		{"NodeRestart", func(t *testing.T, n *node, p *proxy) *node {
			n.stop(t) // 1001 to every peer
			n2 := startNodeIn(t, n.dir)
			p.set(func(p *proxy) { p.target = n2.addr })
			return n2
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			n := startNode(t)
			p := newProxy(t, n.addr)
			r := follow(t, client.FollowConfig{Config: client.Config{URL: p.url(), NoPresence: true}})
			if h := want[*client.Hello](t, r.next(t)); h.Seq != 0 || h.Epoch != n.epoch {
				t.Fatalf("first hello %s; want seq 0, epoch %s", h.Raw(), n.epoch)
			}
			w := writer(t, n)
			var posts []feed.Post
			for _, title := range []string{"one", "two", "three"} {
				posts = append(posts, create(t, w, title))
				wantPost(t, r.next(t), "create", posts[len(posts)-1])
			}

			// While the follower cannot reconnect, three posts are written
			// and the second one is edited.
			p.set(func(p *proxy) { p.refuse = true })
			n = tt.drop(t, n, p)
			if rt := r.retry(t); rt.wait >= testMinBackoff {
				t.Errorf("first retry after a hello waits %v (%v); want under %v", rt.wait, rt.err, testMinBackoff)
			}
			w = writer(t, n)
			for _, title := range []string{"four", "five", "six"} {
				posts = append(posts, create(t, w, title))
			}
			edited := "two, edited"
			ctx := bounded(t)
			p2, err := w.Update(ctx, posts[1].ID, feed.PostPatch{Version: 1, Title: &edited})
			if err != nil {
				t.Fatalf("Update() = %v; want nil error", err)
			}
			p.set(func(p *proxy) { p.refuse = false })

			if h := want[*client.Hello](t, r.next(t)); h.Seq != 7 {
				t.Fatalf("hello after the drop: %s; want seq 7", h.Raw())
			}
			for _, want := range posts[3:] {
				wantPost(t, r.next(t), "create", want)
			}
			wantPost(t, r.next(t), "update", p2)
			if s := want[*client.Synced](t, r.next(t)); s.Seq != 7 {
				t.Fatalf("synced %d; want 7", s.Seq)
			}
			live := create(t, w, "live")
			wantPost(t, r.next(t), "create", live)
			if err := r.stop(t); !errors.Is(err, context.Canceled) {
				t.Errorf("Run() = %v; want context.Canceled", err)
			}
			if pos, ok := r.f.Position(); !ok || pos != (client.Position{Epoch: n.epoch, Seq: live.Seq}) {
				t.Errorf("Position() = %+v, %v; want epoch %s, seq %d", pos, ok, n.epoch, live.Seq)
			}
		})
	}
}

// A follower starts from the position it is given; when the address later
// answers with another database, it is told to reset and gets the new
// node's whole feed.
func TestFollower_StartPositionAndReset(t *testing.T) {
	noLeaks(t)
	a := startNode(t)
	wa := writer(t, a)
	a1, a2 := create(t, wa, "a1"), create(t, wa, "a2")
	p := newProxy(t, a.addr)
	start := client.Position{Epoch: a.epoch, Seq: a1.Seq}
	r := follow(t, client.FollowConfig{Config: client.Config{URL: p.url(), NoPresence: true, Resume: &start}})
	want[*client.Hello](t, r.next(t))
	wantPost(t, r.next(t), "create", a2)
	want[*client.Synced](t, r.next(t))

	b := startNode(t) // another database behind the same address
	b1 := create(t, writer(t, b), "b1")
	p.set(func(p *proxy) { p.target = b.addr })
	p.cut()
	if h := want[*client.Hello](t, r.next(t)); h.Epoch != b.epoch {
		t.Fatalf("hello %s; want epoch %s", h.Raw(), b.epoch)
	}
	if wantPos := (client.Position{Epoch: a.epoch, Seq: a2.Seq}); r.before != wantPos {
		t.Fatalf("Position() at the hello = %+v; want %+v, where it resumed from", r.before, wantPos)
	}
	if rs := want[*client.Reset](t, r.next(t)); rs.Epoch != b.epoch {
		t.Fatalf("reset %s; want epoch %s", rs.Raw(), b.epoch)
	}
	wantPost(t, r.next(t), "create", b1)
	if wantPos := (client.Position{Epoch: b.epoch}); r.before != wantPos {
		t.Fatalf("Position() after the reset = %+v; want %+v", r.before, wantPos)
	}
	want[*client.Synced](t, r.next(t))
	r.stop(t)
	if pos, _ := r.f.Position(); pos != (client.Position{Epoch: b.epoch, Seq: b1.Seq}) {
		t.Fatalf("Position() at the end = %+v; want %s at %d", pos, b.epoch, b1.Seq)
	}
}

// Reconnect waits are random below a backoff that doubles up to its cap,
// and start over after a hello.
func TestFollower_BackoffIsBounded(t *testing.T) {
	noLeaks(t)
	const minB, maxB = time.Millisecond, 8 * time.Millisecond
	n := startNode(t)
	p := newProxy(t, n.addr)
	p.set(func(p *proxy) { p.refuse = true })
	r := follow(t, client.FollowConfig{Config: client.Config{URL: p.url(), NoPresence: true}, MinBackoff: minB, MaxBackoff: maxB})
	for i := range 8 {
		limit := min(minB<<i, maxB)
		if rt := r.retry(t); rt.wait < 0 || rt.wait >= limit {
			t.Errorf("retry %d waits %v; want it in [0, %v)", i, rt.wait, limit)
		}
	}
	if _, ok := r.f.Position(); ok {
		t.Errorf("Position() ok before any hello; want false")
	}
	p.set(func(p *proxy) { p.refuse = false })
	want[*client.Hello](t, r.next(t))
	for len(r.retries) > 0 { // refused while we looked elsewhere
		<-r.retries
	}
	p.cut()
	if rt := r.retry(t); rt.wait >= minB {
		t.Errorf("retry after a hello waits %v; want under %v, the backoff started over", rt.wait, minB)
	}
	if err := r.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run() = %v; want context.Canceled", err)
	}
}

// A node that refuses the handshake for good stops the follower at once,
// saying what the node answered.
func TestFollower_StopsWhenRefused(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	r := follow(t, client.FollowConfig{Config: client.Config{URL: n.url, Token: "wrong"}})
	err := r.result(t, "with a wrong token; want it stopped")
	var re *client.RefusedError
	if !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(err.Error(), "answered 401 Unauthorized: the token in ?token= is not this node's pairing token") {
		t.Fatalf("Run() = %v; want the node's 401 and its message", err)
	}
	if len(r.retries) != 0 {
		t.Errorf("the follower retried %d times; want none", len(r.retries))
	}
}

// A follower's retries wait at least as long as the node asks in
// Retry-After, and a refusal that may pass (429) does not stop it.
func TestFollower_HonoursRetryAfter(t *testing.T) {
	noLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() = %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"code":"rate_limited","message":"a peer from 127.0.0.1 was closed for flooding; reconnect in 7 s"}`))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	r := follow(t, client.FollowConfig{Config: client.Config{URL: ln.Addr().String()}})
	rt := r.retry(t)
	if rt.wait < 7*time.Second || feed.AsError(rt.err).Code != feed.CodeRateLimited || !strings.Contains(rt.err.Error(), "429") {
		t.Fatalf("retry after 429 waits %v (%v); want 7s or more, rate_limited", rt.wait, rt.err)
	}
	if err := r.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run() = %v; want context.Canceled (stopped while waiting)", err)
	}
}

// An event the handler refuses stops Run with that error and does not move
// the position.
func TestFollower_HandlerErrorStops(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	create(t, writer(t, n), "refused")
	errFull := errors.New("disk full")
	f := client.NewFollower(client.FollowConfig{Config: client.Config{URL: n.url, NoPresence: true, Resume: &client.Position{}}})
	ctx := bounded(t)
	err := f.Run(ctx, func(ev client.Event) error {
		if _, ok := ev.(*client.PostEvent); ok {
			return errFull
		}
		return nil
	})
	if err != errFull {
		t.Fatalf("Run() = %v; want the handler's error", err)
	}
	if pos, ok := f.Position(); !ok || pos != (client.Position{Epoch: n.epoch}) {
		t.Errorf("Position() = %+v, %v; want seq 0 in epoch %s: the post was not applied", pos, ok, n.epoch)
	}
}

// run is a Follower running in the background, its events and retries
// collected for the test.
type run struct {
	f       *client.Follower
	events  chan seen
	retries chan retry
	cancel  context.CancelFunc
	done    chan error // Run's result, put back by whoever takes it

	// before is the follower's position when the handler was given the
	// event next returned last: the handler runs in step with the
	// follower, the test does not.
	before client.Position
}

// seen is one call of the handler.
type seen struct {
	ev     client.Event
	before client.Position
}

// retry is one call of OnRetry.
type retry struct {
	err  error
	wait time.Duration
}

// follow starts a Follower with the test's small backoff (unless cfg sets
// one) and stops it when the test ends.
func follow(t *testing.T, cfg client.FollowConfig) *run {
	t.Helper()
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = testMinBackoff, testMaxBackoff
	}
	r := &run{events: make(chan seen, 1024), retries: make(chan retry, 1024), done: make(chan error, 1)}
	cfg.OnRetry = func(err error, wait time.Duration) {
		select {
		case r.retries <- retry{err, wait}:
		default: // the test took none of the last 1024; it will not miss them
		}
	}
	r.f = client.NewFollower(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		r.done <- r.f.Run(ctx, func(ev client.Event) error {
			pos, _ := r.f.Position()
			select {
			case r.events <- seen{ev, pos}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// next returns the follower's next event other than presence.
func (r *run) next(t *testing.T) client.Event {
	t.Helper()
	timeout := time.NewTimer(waitFor)
	defer timeout.Stop()
	for {
		select {
		case s := <-r.events:
			if _, ok := s.ev.(*client.PeersEvent); ok {
				continue
			}
			r.before = s.before
			return s.ev
		case err := <-r.done:
			r.done <- err
			if len(r.events) == 0 {
				t.Fatalf("Run() = %v; want it still following", err)
			}
		case <-timeout.C:
			t.Fatalf("no event from the follower within %v", waitFor)
		}
	}
}

// retry waits for the follower's next retry.
func (r *run) retry(t *testing.T) retry {
	t.Helper()
	select {
	case rt := <-r.retries:
		return rt
	case <-time.After(waitFor):
		t.Fatalf("the follower did not retry within %v", waitFor)
	}
	return retry{}
}

// stop cancels Run and returns its result; it is idempotent.
func (r *run) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	return r.result(t, "after its context ended")
}

// result waits for Run to return.
func (r *run) result(t *testing.T, why string) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(waitFor):
		t.Fatalf("Run still running %v %s", waitFor, why)
	}
	return nil
}
