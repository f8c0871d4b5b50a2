package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/client"
	"lanfeed/feed"
	"lanfeed/store"
)

// Test timing: every wait in this package is bounded by one of these.
const (
	// waitFor bounds one expected delivery; generous because -race on a
	// small machine can stall a goroutine for a while.
	waitFor = 10 * time.Second
	// quiet is how long we watch for something that must not happen.
	quiet = 150 * time.Millisecond
)

// testName is the display name every test node gets.
const testName = "app-test"

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openStore opens a real database file in a fresh temporary directory and
// closes it when the test ends.
func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), t.TempDir(), store.Options{Name: testName})
	if err != nil {
		t.Fatalf("store.Open() = %v; want nil error", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newService returns a Service over a fresh store publishing to sink.
func newService(t testing.TB, sink app.Sink) (*app.Service, *store.Store) {
	t.Helper()
	st := openStore(t)
	svc, err := app.NewService(t.Context(), st, sink, discardLogger())
	if err != nil {
		t.Fatalf("app.NewService() = %v; want nil error", err)
	}
	return svc, st
}

// recordingSink is a Sink that keeps every event it is given.
type recordingSink struct {
	mu     sync.Mutex
	events []app.Event
}

func (r *recordingSink) Publish(ev app.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recordingSink) Events() []app.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]app.Event(nil), r.events...)
}

// emitted is one call of an Emitter.
type emitted struct {
	name     string
	envelope []byte
}

// fakeEmitter records what would reach the desktop window. If block is set,
// each Emit first reports on entered and then waits for block to close.
type fakeEmitter struct {
	mu      sync.Mutex
	calls   []emitted
	changed chan struct{} // capacity 1: "calls grew"

	entered chan struct{}
	block   chan struct{}
}

func newFakeEmitter() *fakeEmitter { return &fakeEmitter{changed: make(chan struct{}, 1)} }

func (f *fakeEmitter) Emit(name string, envelope json.RawMessage) {
	if f.block != nil {
		select {
		case f.entered <- struct{}{}:
		default:
		}
		<-f.block
	}
	f.mu.Lock()
	f.calls = append(f.calls, emitted{name, append([]byte(nil), envelope...)})
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

func (f *fakeEmitter) Calls() []emitted {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]emitted(nil), f.calls...)
}

// waitCalls waits until the emitter has been called at least n times and
// returns the calls.
func (f *fakeEmitter) waitCalls(t *testing.T, n int) []emitted {
	t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		if calls := f.Calls(); len(calls) >= n {
			return calls
		}
		select {
		case <-f.changed:
		case <-deadline.C:
			t.Fatalf("emitter got %d calls after %v; want %d", len(f.Calls()), waitFor, n)
		}
	}
}

// dialPeer connects a LAN peer, with the Go client every program uses, to
// the hub served by ts; it is closed when the test ends.
func dialPeer(t *testing.T, ts *httptest.Server, name, token string) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: ts.URL, Name: name, Token: token})
	if err != nil {
		t.Fatalf("client.Dial(%s) = %v; want nil error", ts.URL, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// nextEvent returns the peer's next event, failing the test if none comes
// in time.
func nextEvent(t *testing.T, c *client.Conn) client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	ev, err := c.Next(ctx)
	if err != nil {
		t.Fatalf("Next() = %v; want an event within %v", err, waitFor)
	}
	return ev
}

// wantCode fails unless err carries the feed error code.
func wantCode(t *testing.T, call string, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s = nil error; want code %s", call, code)
	}
	if got := feed.AsError(err).Code; got != code {
		t.Fatalf("%s = %v (code %s); want code %s", call, err, got, code)
	}
}

func ptr(s string) *string { return &s }

// closeCtx is a bounded context for Close calls in cleanups.
func closeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), waitFor)
}
