package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/feed"
	"lanfeed/store"

	"github.com/gorilla/websocket"
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

// wsClient is a websocket peer whose frames are read by one goroutine into
// a channel, so tests can wait for them with a deadline.
type wsClient struct {
	conn   *websocket.Conn
	frames chan []byte
	done   chan struct{}
	err    error // the read error that ended the reader; valid after done
}

// dialWS connects to the hub served by ts; query is appended to /ws.
func dialWS(t *testing.T, ts *httptest.Server, query string) *wsClient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws" + query
	d := websocket.Dialer{HandshakeTimeout: waitFor}
	conn, _, err := d.Dial(u, nil)
	if err != nil {
		t.Fatalf("Dial(%s) = %v; want nil error", u, err)
	}
	c := &wsClient{conn: conn, frames: make(chan []byte, 1024), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.frames)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				c.err = err
				return
			}
			c.frames <- data
		}
	}()
	t.Cleanup(func() { c.close(t) })
	return c
}

// next returns the next frame, failing the test if none comes in time.
func (c *wsClient) next(t *testing.T) []byte {
	t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			<-c.done
			t.Fatalf("connection ended with %v; want another frame", c.err)
		}
		return f
	case <-time.After(waitFor):
		t.Fatalf("no frame after %v; want one", waitFor)
	}
	return nil
}

// close says goodbye and waits for the reader to end.
func (c *wsClient) close(t *testing.T) {
	t.Helper()
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	select {
	case <-c.done:
	case <-time.After(waitFor):
		t.Errorf("reader still running %v after close; want it ended", waitFor)
	}
	c.conn.Close()
}

// frame is any frame of protocol v1, decoded loosely.
type frame struct {
	Type  string          `json:"type"`
	Event string          `json:"event"`
	Seq   int64           `json:"seq"`
	ID    int64           `json:"id"`
	Data  json.RawMessage `json:"data"`
	Epoch string          `json:"epoch"`
}

func decodeFrame(t *testing.T, b []byte) frame {
	t.Helper()
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v; want a frame", b, err)
	}
	return f
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
