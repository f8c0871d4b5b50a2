package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/feed"
	"lanfeed/internal/wiretest"
	"lanfeed/realtime"

	"github.com/gorilla/websocket"
)

// Test timing: every wait in this package is bounded by one of these.
const (
	// readWait bounds one expected frame; generous because -race on two
	// cores can stall a goroutine for a while.
	readWait = 10 * time.Second
	// quiet is how long a peer must see nothing to conclude nothing comes.
	quiet = 150 * time.Millisecond
)

// node is a running lanfeed node: a real SQLite file in a temporary
// directory, the real app.Service and hub, served over loopback TCP.
type node struct {
	srv   *app.Server
	ts    *httptest.Server
	token string
	epoch string
	id    string
}

// nodeName is the display name every test node gets.
const nodeName = "test-node"

// startNode opens a node with the given hub tuning and serves it until the
// test ends.
func startNode(t testing.TB, hc realtime.Config) *node {
	t.Helper()
	return startNodeWith(t, app.Config{Hub: hc})
}

// startNodeWith opens a node with cfg.
func startNodeWith(t testing.TB, cfg app.Config) *node {
	t.Helper()
	cfg.DataDir = t.TempDir()
	cfg.Name = nodeName
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("app.Open() = %v; want nil error", err)
	}
	ts := httptest.NewServer(srv.Hub.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Hub.Close(ctx); err != nil {
			t.Errorf("Hub.Close() = %v; want nil", err)
		}
		ts.Close()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Server.Close() = %v; want nil", err)
		}
	})
	id := srv.Service.Identity()
	return &node{srv: srv, ts: ts, token: srv.Service.Token(), epoch: id.Epoch, id: id.Node.ID}
}

// seq is the seq of the node's last committed change.
func (n *node) seq() int64 { return n.srv.Service.Seq() }

// create commits a post as the desktop window would (no peer origin).
func (n *node) create(t testing.TB, title, body string) feed.Post {
	t.Helper()
	p, err := n.srv.Service.Create(context.Background(), feed.NewPost{Title: title, Body: body}, feed.Caller{})
	if err != nil {
		t.Fatalf("Create(%q) = %v; want nil error", title, err)
	}
	return p
}

func (n *node) update(t testing.TB, id string, version int64, title string) feed.Post {
	t.Helper()
	p, err := n.srv.Service.Update(context.Background(), id, feed.PostPatch{Version: version, Title: &title}, feed.Caller{})
	if err != nil {
		t.Fatalf("Update(%s, v%d) = %v; want nil error", id, version, err)
	}
	return p
}

func (n *node) delete(t testing.TB, id string) feed.Post {
	t.Helper()
	p, err := n.srv.Service.Delete(context.Background(), id, 0, feed.Caller{})
	if err != nil {
		t.Fatalf("Delete(%s) = %v; want nil error", id, err)
	}
	return p
}

// wsURL is the node's websocket URL with the given query.
func (n *node) wsURL(q url.Values) string {
	u := "ws" + strings.TrimPrefix(n.ts.URL, "http") + "/ws"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// dialOpts are the knobs of one websocket dial.
type dialOpts struct {
	name   string
	token  string
	origin string
	query  url.Values // extra query parameters (since, epoch)
	dialer *websocket.Dialer
}

// dialRaw opens a websocket without reading anything. On a refused
// handshake it returns the response and an error.
func (n *node) dialRaw(o dialOpts) (*websocket.Conn, *http.Response, error) {
	q := url.Values{}
	for k, v := range o.query {
		q[k] = v
	}
	if o.name != "" {
		q.Set("name", o.name)
	}
	if o.token != "" {
		q.Set("token", o.token)
	}
	h := http.Header{}
	if o.origin != "" {
		h.Set("Origin", o.origin)
	}
	d := o.dialer
	if d == nil {
		d = &websocket.Dialer{HandshakeTimeout: readWait}
	}
	ctx, cancel := context.WithTimeout(context.Background(), readWait)
	defer cancel()
	return d.DialContext(ctx, n.wsURL(q), h)
}

// dial connects a peer, reads its hello and closes it when the test ends.
func (n *node) dial(t testing.TB, o dialOpts) *client {
	t.Helper()
	conn, resp, err := n.dialRaw(o)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d); want a websocket", o.name, err, status)
	}
	c := &client{t: t, conn: conn, name: o.name}
	t.Cleanup(func() { conn.Close() })
	f := c.read()
	if f.Type != "hello" {
		t.Fatalf("%s: first frame type = %q; want hello (frame %s)", o.name, f.Type, f.Raw)
	}
	c.hello = f
	return c
}

// The wire types these tests decode with are wiretest's: the field names
// the protocol documents, not the server's own types.
type (
	frame     = wiretest.Frame
	wirePost  = wiretest.Post
	wirePeer  = wiretest.Peer
	postData  = wiretest.PostData
	peersData = wiretest.PeersData
)

func decodeFrame(raw []byte) (frame, error) { return wiretest.Decode(raw) }

// client is one test peer over a real gorilla websocket connection.
type client struct {
	t     testing.TB
	conn  *websocket.Conn
	name  string
	hello frame
	ids   atomic.Int64 // last emit id
}

// next reads one frame, waiting at most d. Errors are returned, not fatal,
// so that goroutines and close-code checks can use it.
func (c *client) next(d time.Duration) (frame, error) {
	c.conn.SetReadDeadline(time.Now().Add(d))
	kind, raw, err := c.conn.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	if kind != websocket.TextMessage {
		return frame{}, fmt.Errorf("got message kind %d; want text", kind)
	}
	f, err := decodeFrame(raw)
	if err != nil {
		return f, fmt.Errorf("frame %s is not JSON: %w", raw, err)
	}
	return f, nil
}

// read returns the next frame or fails the test.
func (c *client) read() frame {
	c.t.Helper()
	f, err := c.next(readWait)
	if err != nil {
		c.t.Fatalf("%s: read: %v", c.name, err)
	}
	return f
}

// readNonPeers returns the next frame that is not a presence event.
func (c *client) readNonPeers() frame {
	c.t.Helper()
	for {
		if f := c.read(); !f.IsPeers() {
			return f
		}
	}
}

// readUntil reads until a frame satisfies ok and returns it with the frames
// skipped on the way.
func (c *client) readUntil(what string, ok func(frame) bool) (frame, []frame) {
	c.t.Helper()
	deadline := time.Now().Add(readWait)
	var skipped []frame
	for {
		f, err := c.next(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("%s: waiting for %s: %v (skipped %d frames)", c.name, what, err, len(skipped))
		}
		if ok(f) {
			return f, skipped
		}
		skipped = append(skipped, f)
	}
}

// expectNothing fails if a frame other than a presence event arrives
// within quiet. A read timeout breaks a gorilla connection for good, so call
// it only at the end of a peer's life.
func (c *client) expectNothing() {
	c.t.Helper()
	for {
		f, err := c.next(quiet)
		if err != nil {
			if isTimeout(err) {
				return
			}
			c.t.Fatalf("%s: read: %v; want a timeout", c.name, err)
		}
		if !f.IsPeers() {
			c.t.Fatalf("%s: got frame %s; want nothing", c.name, f)
		}
	}
}

// send writes v as one JSON text frame.
func (c *client) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatalf("encode %v: %v", v, err)
	}
	c.sendRaw(websocket.TextMessage, b)
}

func (c *client) sendRaw(kind int, b []byte) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(readWait))
	if err := c.conn.WriteMessage(kind, b); err != nil {
		c.t.Fatalf("%s: write: %v", c.name, err)
	}
}

// emit sends a write with the next emit id and returns that id.
func (c *client) emit(event string, data any) int64 {
	c.t.Helper()
	id := c.ids.Add(1)
	c.send(map[string]any{"type": "emit", "id": id, "event": event, "data": data})
	return id
}

// sync asks for the changes after since.
func (c *client) sync(since int64, epoch string) {
	c.t.Helper()
	c.send(map[string]any{"type": "sync", "since": since, "epoch": epoch})
}

// closed is how a connection ended, as the peer saw it.
type closed struct {
	code   int     // close code; websocket.CloseAbnormalClosure (1006) when none came
	reason string  // close reason
	frames []frame // frames read before the end
	err    error   // the read error
}

// readToClose reads until the connection ends, at most d. It is safe in
// goroutines: it never fails the test.
func (c *client) readToClose(d time.Duration) closed {
	deadline := time.Now().Add(d)
	var r closed
	for {
		f, err := c.next(time.Until(deadline))
		if err == nil {
			r.frames = append(r.frames, f)
			continue
		}
		r.err = err
		r.code = websocket.CloseAbnormalClosure
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			r.code, r.reason = ce.Code, ce.Text
		}
		return r
	}
}

// closeCode is readToClose for the test goroutine: a connection still open
// after d fails the test.
func (c *client) closeCode(d time.Duration) closed {
	c.t.Helper()
	r := c.readToClose(d)
	if isTimeout(r.err) {
		c.t.Fatalf("%s: connection still open after %v (read %d frames); want it closed", c.name, d, len(r.frames))
	}
	return r
}

// isTimeout reports whether err is a deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// apiError is the body of every REST error.
type apiError struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Field   string    `json:"field"`
	Post    *wirePost `json:"post"`
}

// do sends one REST request and decodes the JSON answer into out (if not
// nil), returning the status. A body is sent as application/json unless
// hdr gives another Content-Type.
func (n *node) do(t testing.TB, method, path string, hdr http.Header, body any, out any) int {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode %v: %v", b, err)
		}
		rd = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), readWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, n.ts.URL+path, rd)
	if err != nil {
		t.Fatalf("NewRequest(%s %s): %v", method, path, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := n.ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type = %q; want application/json", method, path, ct)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: body %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// bearer is the Authorization header carrying token.
func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// post creates a post over REST with the node's token.
func (n *node) post(t testing.TB, title, body string) wirePost {
	t.Helper()
	var p wirePost
	if status := n.do(t, "POST", "/api/posts", bearer(n.token), map[string]string{"title": title, "body": body}, &p); status != http.StatusCreated {
		t.Fatalf("POST /api/posts = %d; want %d", status, http.StatusCreated)
	}
	return p
}

// postE is post for goroutines: it returns errors instead of failing.
func (n *node) postE(title string) (wirePost, error) {
	ctx, cancel := context.WithTimeout(context.Background(), readWait)
	defer cancel()
	b, _ := json.Marshal(map[string]string{"title": title})
	req, err := http.NewRequestWithContext(ctx, "POST", n.ts.URL+"/api/posts", bytes.NewReader(b))
	if err != nil {
		return wirePost{}, err
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	resp, err := n.ts.Client().Do(req)
	if err != nil {
		return wirePost{}, err
	}
	defer resp.Body.Close()
	var p wirePost
	if resp.StatusCode != http.StatusCreated {
		raw, _ := io.ReadAll(resp.Body)
		return p, fmt.Errorf("POST /api/posts = %d %s; want %d", resp.StatusCode, raw, http.StatusCreated)
	}
	return p, json.NewDecoder(resp.Body).Decode(&p)
}

// sinceQuery returns the query that syncs a dial from seq s of epoch e.
func sinceQuery(s int64, e string) url.Values {
	return url.Values{"since": {strconv.FormatInt(s, 10)}, "epoch": {e}}
}

// smallReadBufferDialer dials with a small socket receive buffer: together
// with Config.SendBuffer it bounds what the kernel holds for a peer that
// does not read.
func smallReadBufferDialer(size int) *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout: readWait,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetReadBuffer(size)
			}
			return c, err
		},
	}
}

// emitE is emit for goroutines: it returns the write error.
func (c *client) emitE(event string, data any) (int64, error) {
	id := c.ids.Add(1)
	b, err := json.Marshal(map[string]any{"type": "emit", "id": id, "event": event, "data": data})
	if err != nil {
		return id, err
	}
	c.conn.SetWriteDeadline(time.Now().Add(readWait))
	return id, c.conn.WriteMessage(websocket.TextMessage, b)
}

// collectPosts reads until it has want frames of the post stream (posts
// events and acks), skipping presence events, within d. It is safe in
// goroutines.
func (c *client) collectPosts(want int, d time.Duration) ([]frame, error) {
	deadline := time.Now().Add(d)
	frames := make([]frame, 0, want)
	for len(frames) < want {
		f, err := c.next(time.Until(deadline))
		if err != nil {
			return frames, fmt.Errorf("%s: after %d of %d post frames: %w", c.name, len(frames), want, err)
		}
		switch {
		case f.IsPeers():
		case f.IsPost(), f.Type == "ack":
			frames = append(frames, f)
		default:
			return frames, fmt.Errorf("%s: got frame %s; want a posts event or an ack", c.name, f)
		}
	}
	return frames, nil
}

// checkContiguous returns an error unless the frames carry the seqs
// from+1, from+2, ... in order.
func checkContiguous(name string, frames []frame, from int64) error {
	for i, f := range frames {
		if want := from + 1 + int64(i); f.Seq != want {
			return fmt.Errorf("%s: frame %d has seq %d; want %d (frame %s)", name, i, f.Seq, want, f)
		}
	}
	return nil
}

// Prefixes of the frames collectSeqs tells apart without decoding them.
var (
	postsPrefix = []byte(`{"type":"event","event":"posts","seq":`)
	peersPrefix = []byte(`{"type":"event","event":"peers",`)
)

// collectSeqs is a cheap collectPosts for tests with many peers: it reads
// until it has the seqs of want posts events, skipping presence events,
// without decoding the frames (other tests check their content), counting
// them in progress. It is safe in goroutines.
func (c *client) collectSeqs(want int, d time.Duration, progress *atomic.Int64) ([]int64, error) {
	deadline := time.Now().Add(d)
	seqs := make([]int64, 0, want)
	c.conn.SetReadDeadline(deadline)
	for len(seqs) < want {
		_, raw, err := c.conn.ReadMessage()
		if err != nil {
			return seqs, fmt.Errorf("%s: after %d of %d posts events: %w", c.name, len(seqs), want, err)
		}
		if bytes.HasPrefix(raw, peersPrefix) {
			continue
		}
		rest, ok := bytes.CutPrefix(raw, postsPrefix)
		end := bytes.IndexByte(rest, ',')
		if !ok || end < 0 {
			return seqs, fmt.Errorf("%s: got frame %s; want a posts event", c.name, raw)
		}
		seq, err := strconv.ParseInt(string(rest[:end]), 10, 64)
		if err != nil {
			return seqs, fmt.Errorf("%s: frame %s: bad seq: %w", c.name, raw, err)
		}
		seqs = append(seqs, seq)
		progress.Add(1)
	}
	return seqs, nil
}
