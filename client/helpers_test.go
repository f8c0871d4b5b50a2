package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/client"
	"lanfeed/feed"
	"lanfeed/internal/testnode"
)

// waitFor bounds every wait for an expected event or answer in this
// package; generous because -race on a small machine can stall a goroutine
// for a while.
const waitFor = 10 * time.Second

// testName is the display name of every test node.
const testName = "client-test"

// node is a real lanfeed node serving on loopback.
type node struct {
	srv   *app.Server
	dir   string
	addr  string // 127.0.0.1:port
	url   string // http://127.0.0.1:port/
	token string
	epoch string
}

// startNode opens a node on a fresh database; tune, if given, adjusts its
// configuration first. The node is closed when the test ends.
func startNode(t *testing.T, tune ...func(*app.Config)) *node {
	t.Helper()
	return startNodeIn(t, t.TempDir(), tune...)
}

// startNodeIn opens a node on the database in dir.
func startNodeIn(t *testing.T, dir string, tune ...func(*app.Config)) *node {
	t.Helper()
	cfg := app.Config{DataDir: dir, Name: testName}
	for _, f := range tune {
		f(&cfg)
	}
	srv := testnode.Open(t, cfg, "")
	n := &node{srv: srv, dir: dir, token: srv.Service.Token(), epoch: srv.Service.Identity().Epoch}
	n.url = srv.URLs()[0]
	n.addr = strings.TrimSuffix(strings.TrimPrefix(n.url, "http://"), "/")
	return n
}

// stop closes the node: peers are told goodbye (1001). It is idempotent,
// and the node is closed again when the test ends.
func (n *node) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := n.srv.Close(ctx); err != nil {
		t.Errorf("closing the node: %v", err)
	}
}

// bounded returns a context that ends after waitFor, or with the test.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

// dial connects to n's URL (or cfg.URL if set) and closes the connection
// when the test ends.
func dial(t *testing.T, n *node, cfg client.Config) *client.Conn {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = n.url
	}
	ctx := bounded(t)
	c, err := client.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial(%s) = %v; want nil error", cfg.URL, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// writer is a connection that only writes to n.
func writer(t *testing.T, n *node) *client.Conn {
	t.Helper()
	return dial(t, n, client.Config{Name: "writer", Token: n.token, NoPresence: true, DiscardEvents: true})
}

// create writes a post titled title and returns it as committed.
func create(t *testing.T, c *client.Conn, title string) feed.Post {
	t.Helper()
	ctx := bounded(t)
	p, err := c.Create(ctx, feed.NewPost{Title: title})
	if err != nil {
		t.Fatalf("Create(%q) = %v; want nil error", title, err)
	}
	return p
}

// next returns c's next event.
func next(t *testing.T, c *client.Conn) client.Event {
	t.Helper()
	ctx := bounded(t)
	ev, err := c.Next(ctx)
	if err != nil {
		t.Fatalf("Next() = %v; want an event within %v", err, waitFor)
	}
	return ev
}

// want fails unless ev is a T, and returns it.
func want[T client.Event](t *testing.T, ev client.Event) T {
	t.Helper()
	e, ok := ev.(T)
	if !ok {
		var zero T
		t.Fatalf("event %T %s; want a %T", ev, ev.Raw(), zero)
	}
	return e
}

// wantPost fails unless ev is the PostEvent of p with action.
func wantPost(t *testing.T, ev client.Event, action string, p feed.Post) {
	t.Helper()
	pe := want[*client.PostEvent](t, ev)
	if pe.Action != action || pe.Seq != p.Seq || pe.Post != p {
		t.Fatalf("event %s %d %+v; want %s %d %+v", pe.Action, pe.Seq, pe.Post, action, p.Seq, p)
	}
}

// proxy forwards TCP connections to a node, and can cut them, refuse new
// ones or stop forwarding what the client sends: a network that fails on
// command, in front of a real node.
type proxy struct {
	ln   net.Listener
	held chan struct{} // a chunk from a client was held back; capacity 1
	wg   sync.WaitGroup

	mu     sync.Mutex
	target string
	refuse bool // close new connections at once
	hold   bool // drop what clients send instead of forwarding it
	closed bool // the test has ended
	conns  map[net.Conn]struct{}
}

// newProxy forwards to target until the test ends.
func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() = %v", err)
	}
	p := &proxy{ln: ln, target: target, held: make(chan struct{}, 1), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.set(func(p *proxy) { p.closed = true })
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target, refuse := p.target, p.refuse
		p.mu.Unlock()
		if refuse {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		closed := p.closed
		if !closed {
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		}
		p.mu.Unlock()
		if closed {
			c.Close()
			up.Close()
			return
		}
		p.wg.Add(2)
		go p.pipe(up, c, true)
		go p.pipe(c, up, false)
	}
}

// pipe copies src to dst until either fails, then closes both.
func (p *proxy) pipe(dst, src net.Conn, fromClient bool) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
		dst.Close()
		src.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			hold := fromClient && p.hold
			p.mu.Unlock()
			if hold {
				select {
				case p.held <- struct{}{}:
				default:
				}
			} else if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut drops every connection the proxy carries, as a failing network would.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) set(f func(p *proxy)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// noLeaks fails the test if a goroutine of package client outlives it.
// Call it first, so that its check runs after every other cleanup.
func noLeaks(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		deadline := time.Now().Add(waitFor)
		for {
			left := clientGoroutines()
			if left == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("goroutines of package client still running %v after the test:\n%s", waitFor, left)
				return
			}
			time.Sleep(5 * time.Millisecond) // polling: goroutines announce no end
		}
	})
}

// clientGoroutines returns the stacks of the running goroutines with a
// frame in package client (not its tests).
func clientGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "lanfeed/client.") {
			left = append(left, g)
		}
	}
	return strings.Join(left, "\n\n")
}

// errorField formats a *feed.Error's code and field, for comparisons.
func errorField(err error) string {
	var fe *feed.Error
	if !errors.As(err, &fe) {
		return fmt.Sprintf("not a *feed.Error: %v", err)
	}
	return fe.Code + "/" + fe.Field
}
