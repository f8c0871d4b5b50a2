//go:build unix

// The end-to-end tests build lanfeedd, run it as a child process on
// loopback and drive it over HTTP and websocket as a LAN peer would. They
// need the go command and send SIGTERM, hence unix only.
package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lanfeed/internal/testproc"
	"lanfeed/internal/wiretest"

	"github.com/gorilla/websocket"
)

// Timing: every wait in these tests is bounded by one of these.
const (
	// startWait bounds a node's start until it prints its URL and token.
	startWait = 20 * time.Second
	// waitFor bounds one expected frame or response; generous because the
	// race detector on a small machine can stall the test for a while.
	waitFor = 10 * time.Second
	// stopWait is how long lanfeedd may take to exit after SIGTERM.
	stopWait = 5 * time.Second
)

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// lanfeedd builds the binary once per test process, pure Go as shipped.
func lanfeedd(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "lanfeedd-e2e-"); buildErr == nil {
			binPath, buildErr = testproc.Build(buildDir)
		}
	})
	if buildErr != nil {
		t.Fatalf("building lanfeedd: %v", buildErr)
	}
	return binPath
}

// start runs lanfeedd with args until it exits or the test ends.
func start(t *testing.T, args ...string) *testproc.Proc {
	t.Helper()
	return testproc.Start(t, lanfeedd(t), args...)
}

// node is a running `lanfeedd serve`.
type node struct {
	*testproc.Proc
	url   string // http://127.0.0.1:port/
	token string
}

// serve starts `lanfeedd serve` on a free loopback port with dataDir and
// waits for it to print where it listens and its pairing token.
func serve(t *testing.T, dataDir string) *node {
	t.Helper()
	return serveOn(t, dataDir, "127.0.0.1:0")
}

// serveOn is serve on a given address, with extra flags.
func serveOn(t *testing.T, dataDir, addr string, flags ...string) *node {
	t.Helper()
	sn := testproc.Serve(t, lanfeedd(t), startWait, append([]string{"--listen", addr, "--data-dir", dataDir, "--name", "e2e"}, flags...)...)
	n := &node{Proc: sn.Proc, url: sn.URL, token: sn.Token}
	if !strings.HasPrefix(n.url, "http://127.0.0.1:") || !strings.HasSuffix(n.url, "/") {
		t.Fatalf("listening on %q; want http://127.0.0.1:PORT/", n.url)
	}
	return n
}

// stop sends SIGTERM and checks that lanfeedd exits cleanly in time.
func (n *node) stop(t *testing.T) {
	t.Helper()
	if err := n.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	if code := n.Wait(t, stopWait); code != 0 {
		t.Fatalf("lanfeedd exit code after SIGTERM = %d; want 0\nstderr:\n%s", code, n.Stderr.String())
	}
}

var client = &http.Client{Timeout: waitFor}

// call makes one REST request and decodes the JSON answer into out (if not
// nil), failing unless the status is want.
func (n *node) call(t *testing.T, method, path, token string, body any, want int, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("json.Marshal(%v): %v", body, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(n.url, "/")+path, r)
	if err != nil {
		t.Fatalf("NewRequest(%s %s): %v", method, path, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d %s; want %d", method, path, resp.StatusCode, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %s: %v; want JSON", method, path, data, err)
		}
	}
}

// post is a post as the wire carries it (wiretest's independent types).
type post = wiretest.Post

type info struct {
	Proto int `json:"proto"`
	Node  struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"node"`
	Epoch string   `json:"epoch"`
	Seq   int64    `json:"seq"`
	Peers int      `json:"peers"`
	URLs  []string `json:"urls"`
}

// frame is any server frame of protocol v1, decoded loosely.
type frame = wiretest.Frame

// peer is a websocket peer whose frames one goroutine reads into a channel.
type peer struct {
	name   string
	conn   *websocket.Conn
	frames chan frame
	done   chan struct{}
	err    error // why reading ended; valid after done
}

// dial connects a peer to n with the given query (name, token, ...).
func dial(t *testing.T, n *node, name, query string) *peer {
	t.Helper()
	u := "ws" + strings.TrimPrefix(n.url, "http") + "ws?name=" + name + query
	d := websocket.Dialer{HandshakeTimeout: waitFor}
	conn, _, err := d.Dial(u, nil)
	if err != nil {
		t.Fatalf("peer %s: Dial() = %v; want nil error", name, err)
	}
	p := &peer{name: name, conn: conn, frames: make(chan frame, 1024), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer close(p.frames)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				p.err = err
				return
			}
			f, err := wiretest.Decode(data)
			if err != nil {
				p.err = fmt.Errorf("malformed frame %s: %w", data, err)
				return
			}
			p.frames <- f
		}
	}()
	t.Cleanup(func() { conn.Close(); <-p.done })
	return p
}

// next returns the next frame other than presence (peers events).
func (p *peer) next(t *testing.T) frame {
	t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case f, ok := <-p.frames:
			if !ok {
				t.Fatalf("peer %s: connection ended (%v); want another frame", p.name, p.err)
			}
			if f.Type == "event" && f.Event == "peers" {
				continue
			}
			return f
		case <-timeout:
			t.Fatalf("peer %s: no frame within %v; want one", p.name, waitFor)
		}
	}
}

// hello reads the first frame, which must be hello.
func (p *peer) hello(t *testing.T) frame {
	t.Helper()
	f := p.next(t)
	if f.Type != "hello" || f.Proto != 1 {
		t.Fatalf("peer %s: first frame %s; want hello with proto 1", p.name, f.Raw)
	}
	return f
}

// send writes one JSON message.
func (p *peer) send(t *testing.T, msg string) {
	t.Helper()
	p.conn.SetWriteDeadline(time.Now().Add(waitFor))
	if err := p.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("peer %s: WriteMessage(%s) = %v; want nil error", p.name, msg, err)
	}
}

// leave closes the connection politely and waits for the reader to end.
func (p *peer) leave(t *testing.T) {
	t.Helper()
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	p.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(waitFor))
	p.ended(t)
	p.conn.Close()
}

// ended waits for the connection to end and returns the reason.
func (p *peer) ended(t *testing.T) error {
	t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case <-p.done:
			return p.err
		case <-p.frames: // drain what is left
		case <-timeout:
			t.Fatalf("peer %s: connection still open %v later; want it ended", p.name, waitFor)
		}
	}
}

// wantPostEvent reads the next frame of each peer and checks it is the
// posts event for p with action.
func wantPostEvent(t *testing.T, action string, want post, peers ...*peer) {
	t.Helper()
	for _, pe := range peers {
		f := pe.next(t)
		gotAction, got := f.PostEvent(t)
		if gotAction != action || got != want {
			t.Fatalf("peer %s got %s %+v; want %s %+v", pe.name, gotAction, got, action, want)
		}
	}
}

func TestServe_DrivenByLANPeers(t *testing.T) {
	dataDir := t.TempDir()
	n := serve(t, dataDir)
	if len(n.token) < 32 {
		t.Fatalf("pairing token %q; want 128 bits or more", n.token)
	}

	var health map[string]string
	n.call(t, "GET", "/healthz", "", nil, http.StatusOK, &health)
	if health["status"] != "ok" {
		t.Fatalf("GET /healthz = %v; want status ok", health)
	}
	var in info
	n.call(t, "GET", "/api/info", "", nil, http.StatusOK, &in)
	if in.Proto != 1 || in.Node.Name != "e2e" || in.Node.ID == "" || in.Epoch == "" || in.Seq != 0 || in.Peers != 0 ||
		!slices.Contains(in.URLs, n.url) {
		t.Fatalf("GET /api/info = %+v; want proto 1, node e2e, an epoch, seq 0, 0 peers, URL %s", in, n.url)
	}

	// A may write, B only reads; a wrong token is refused at the door.
	a := dial(t, n, "A", "&token="+n.token)
	b := dial(t, n, "B", "")
	if h := a.hello(t); !h.CanWrite || h.Epoch != in.Epoch || h.Seq != 0 {
		t.Fatalf("A's hello %s; want canWrite, epoch %s, seq 0", h.Raw, in.Epoch)
	}
	if h := b.hello(t); h.CanWrite {
		t.Fatalf("B's hello %s; want canWrite false", h.Raw)
	}
	u := "ws" + strings.TrimPrefix(n.url, "http") + "ws?token=wrong"
	if _, resp, err := websocket.DefaultDialer.Dial(u, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Dial with a wrong token = %v (response %v); want 401", err, resp)
	}

	// B cannot write; A's emit is acked to A and broadcast to B.
	b.send(t, `{"type":"emit","id":1,"event":"posts.create","data":{"title":"from B"}}`)
	if f := b.next(t); f.Type != "error" || f.EmitID() != 1 || f.Code != "unauthorized" {
		t.Fatalf("B got %s; want error id 1 unauthorized", f.Raw)
	}
	a.send(t, `{"type":"emit","id":7,"event":"posts.create","data":{"title":"from A","body":"hello\nLAN"}}`)
	ack := a.next(t)
	var p1 post
	if ack.Type != "ack" || ack.EmitID() != 7 || ack.Seq != 1 || json.Unmarshal(ack.Data, &p1) != nil {
		t.Fatalf("A got %s; want ack id 7 seq 1 with the post", ack.Raw)
	}
	if p1.Title != "from A" || p1.Body != "hello\nLAN" || p1.Author != "e2e" || p1.Version != 1 || p1.Seq != 1 {
		t.Fatalf("ack post = %+v; want from A, author e2e, version 1, seq 1", p1)
	}
	wantPostEvent(t, "create", p1, b)

	// REST writes reach both peers.
	n.call(t, "POST", "/api/posts", "", map[string]string{"title": "no token"}, http.StatusUnauthorized, nil)
	var p2 post
	n.call(t, "POST", "/api/posts", n.token, map[string]string{"title": "from REST", "author": "curl"}, http.StatusCreated, &p2)
	if p2.Seq != 2 || p2.Author != "curl" || p2.Origin != in.Node.ID {
		t.Fatalf("POST /api/posts = %+v; want seq 2, author curl, origin %s (this node)", p2, in.Node.ID)
	}
	wantPostEvent(t, "create", p2, a, b)
	var p2u post
	n.call(t, "PATCH", "/api/posts/"+p2.ID, n.token, map[string]any{"version": 1, "title": "edited"}, http.StatusOK, &p2u)
	if p2u.Title != "edited" || p2u.Version != 2 || p2u.Seq != 3 || p2u.CreatedAt != p2.CreatedAt {
		t.Fatalf("PATCH = %+v; want title edited, version 2, seq 3, createdAt kept", p2u)
	}
	wantPostEvent(t, "update", p2u, a, b)
	var conflict struct {
		Code string `json:"code"`
		Post post   `json:"post"`
	}
	n.call(t, "PATCH", "/api/posts/"+p2.ID, n.token, map[string]any{"version": 1, "title": "stale"}, http.StatusConflict, &conflict)
	if conflict.Code != "conflict" || conflict.Post != p2u {
		t.Fatalf("stale PATCH = %+v; want conflict carrying %+v", conflict, p2u)
	}
	var p2d post
	n.call(t, "DELETE", "/api/posts/"+p2.ID+"?version=2", n.token, nil, http.StatusOK, &p2d)
	if !p2d.Deleted || p2d.Seq != 4 || p2d.Title != "" {
		t.Fatalf("DELETE = %+v; want a tombstone with seq 4", p2d)
	}
	wantPostEvent(t, "delete", p2d, a, b)
	n.call(t, "GET", "/api/posts/"+p2.ID, "", nil, http.StatusNotFound, nil)

	// B drops out, misses ten posts, comes back and catches up.
	b.leave(t)
	const missed = 10
	var written []post
	for i := range missed {
		var p post
		n.call(t, "POST", "/api/posts", n.token, map[string]string{"title": fmt.Sprint("missed ", i)}, http.StatusCreated, &p)
		written = append(written, p)
		wantPostEvent(t, "create", p, a)
	}
	b = dial(t, n, "B", "")
	if h := b.hello(t); h.Seq != 4+missed {
		t.Fatalf("B's second hello %s; want seq %d", h.Raw, 4+missed)
	}
	b.send(t, fmt.Sprintf(`{"type":"sync","since":4,"epoch":%q}`, in.Epoch))
	for _, w := range written {
		wantPostEvent(t, "create", w, b)
	}
	if f := b.next(t); f.Type != "synced" || f.Seq != 4+missed {
		t.Fatalf("B got %s after the replay; want synced seq %d", f.Raw, 4+missed)
	}
	var live post
	n.call(t, "POST", "/api/posts", n.token, map[string]string{"title": "live"}, http.StatusCreated, &live)
	if live.Seq != 5+missed {
		t.Fatalf("POST = seq %d; want %d", live.Seq, 5+missed)
	}
	wantPostEvent(t, "create", live, a, b)

	// A script follows the feed from the start: its own join, then the
	// latest state of every post in seq order; --max counts post events only.
	wantSeqs := []int64{1, 4}
	for i := range missed + 1 {
		wantSeqs = append(wantSeqs, int64(5+i))
	}
	tl := start(t, "tail", n.url, "--since", "0", "--max", fmt.Sprint(len(wantSeqs)))
	if code := tl.Wait(t, waitFor); code != 0 {
		t.Fatalf("lanfeedd tail exit code = %d; want 0\nstderr:\n%s", code, tl.Stderr.String())
	}
	var gotSeqs []int64
	joins := 0
	for _, line := range strings.Split(strings.TrimSuffix(tl.Stdout.String(), "\n"), "\n") {
		f, err := wiretest.Decode([]byte(line))
		if err != nil || f.Type != "event" {
			t.Fatalf("tail printed %q; want one JSON event per line", line)
		}
		switch f.Event {
		case "posts":
			_, p := f.PostEvent(t)
			gotSeqs = append(gotSeqs, p.Seq)
			if p.Seq == 4 && !p.Deleted {
				t.Errorf("tail printed %s for seq 4; want the tombstone", line)
			}
		case "peers":
			joins++
		}
	}
	if !slices.Equal(gotSeqs, wantSeqs) || joins != 1 {
		t.Fatalf("tail printed posts seqs %v and %d peers events; want %v and 1", gotSeqs, joins, wantSeqs)
	}

	// SIGTERM: peers are told goodbye (1001) and lanfeedd exits 0.
	n.stop(t)
	for _, pe := range []*peer{a, b} {
		if err := pe.ended(t); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("peer %s ended with %v; want close 1001", pe.name, err)
		}
	}
	if strings.Contains(n.Stderr.String(), n.token) {
		t.Errorf("lanfeedd logged its pairing token; want it printed once on stdout only")
	}

	// Restart on the same data directory: same node, epoch, token and posts.
	n2 := serve(t, dataDir)
	var in2 info
	n2.call(t, "GET", "/api/info", "", nil, http.StatusOK, &in2)
	if in2.Node != in.Node || in2.Epoch != in.Epoch || in2.Seq != live.Seq {
		t.Fatalf("after restart GET /api/info = %+v; want node %+v, epoch %s, seq %d", in2, in.Node, in.Epoch, live.Seq)
	}
	if n2.token != n.token {
		t.Errorf("after restart the token is %q; want the stored %q", n2.token, n.token)
	}
	var page struct {
		Posts []post `json:"posts"`
		Next  string `json:"next"`
		Seq   int64  `json:"seq"`
	}
	n2.call(t, "GET", "/api/posts?limit=200", "", nil, http.StatusOK, &page)
	wantLive := append([]post{p1}, written...)
	wantLive = append(wantLive, live)
	slices.Reverse(wantLive) // newest first
	if len(page.Posts) != len(wantLive) || page.Next != "" || page.Seq != live.Seq {
		t.Fatalf("after restart GET /api/posts = %d posts, next %q, seq %d; want %d, \"\", %d",
			len(page.Posts), page.Next, page.Seq, len(wantLive), live.Seq)
	}
	for i := range wantLive {
		if page.Posts[i] != wantLive[i] {
			t.Errorf("after restart post %d = %+v; want %+v", i, page.Posts[i], wantLive[i])
		}
	}
	// A peer that was in sync before the restart resumes with nothing to catch up.
	c := dial(t, n2, "C", "&since="+fmt.Sprint(live.Seq)+"&epoch="+in.Epoch)
	c.hello(t)
	if f := c.next(t); f.Type != "synced" || f.Seq != live.Seq {
		t.Fatalf("C got %s; want synced seq %d at once", f.Raw, live.Seq)
	}
	n2.stop(t)
}

// tailSeqs waits until tail has printed n posts events and returns their seqs.
func tailSeqs(t *testing.T, tl *testproc.Proc, n int) []int64 {
	t.Helper()
	timeout := time.After(2 * waitFor)
	var seqs []int64
	for len(seqs) < n {
		select {
		case line, ok := <-tl.Lines:
			if !ok {
				t.Fatalf("tail exited after posts %v; want %d posts events", seqs, n)
			}
			f, err := wiretest.Decode([]byte(line))
			if err != nil {
				t.Fatalf("tail printed %q; want JSON lines", line)
			}
			if f.Type == "event" && f.Event == "posts" {
				seqs = append(seqs, f.Seq)
			}
		case <-timeout:
			t.Fatalf("tail printed posts %v within %v; want %d posts events", seqs, 2*waitFor, n)
		}
	}
	return seqs
}

// A tail that loses its node reconnects when the node is back and resumes
// from its last seq: it misses nothing and prints nothing twice.
func TestTail_ResumesAfterNodeRestart(t *testing.T) {
	dataDir := t.TempDir()
	n := serve(t, dataDir)
	addr := strings.TrimSuffix(strings.TrimPrefix(n.url, "http://"), "/")
	tl := start(t, "tail", n.url)
	// Wait for tail to be connected: the node counts it as a peer.
	deadline := time.Now().Add(waitFor)
	for {
		var in info
		n.call(t, "GET", "/api/info", "", nil, http.StatusOK, &in)
		if in.Peers == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /api/info peers = %d after %v; want tail connected", in.Peers, waitFor)
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.call(t, "POST", "/api/posts", n.token, map[string]string{"title": "before"}, http.StatusCreated, nil)
	if got := tailSeqs(t, tl, 1); !slices.Equal(got, []int64{1}) {
		t.Fatalf("tail printed posts %v; want [1]", got)
	}

	n.stop(t)
	n = serveOn(t, dataDir, addr)
	for i := range 3 {
		n.call(t, "POST", "/api/posts", n.token, map[string]string{"title": fmt.Sprint("after ", i)}, http.StatusCreated, nil)
	}
	if got := tailSeqs(t, tl, 3); !slices.Equal(got, []int64{2, 3, 4}) {
		t.Fatalf("tail printed posts %v after the restart; want [2 3 4]", got)
	}
	if err := tl.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM tail: %v", err)
	}
	if code := tl.Wait(t, stopWait); code != 0 {
		t.Errorf("tail exit code after SIGTERM = %d; want 0", code)
	}
	if !strings.Contains(tl.Stderr.String(), "reconnecting in") {
		t.Errorf("tail stderr = %q; want it to say it is reconnecting", tl.Stderr.String())
	}
	n.stop(t)
}

func TestServe_PortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() = %v", err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	p := start(t, "serve", "--listen", addr, "--data-dir", t.TempDir())
	if code := p.Wait(t, startWait); code == 0 {
		t.Fatalf("lanfeedd serve on a taken port exit code = 0; want non-zero")
	}
	stderr := p.Stderr.String()
	if !strings.Contains(stderr, "cannot listen on "+addr) || !strings.Contains(stderr, "--listen") {
		t.Errorf("stderr = %q; want it to say it cannot listen on %s and suggest --listen", stderr, addr)
	}
	if strings.Contains(p.Stdout.String(), "pairing token") {
		t.Errorf("stdout = %q; want no token from a node that did not start", p.Stdout.String())
	}
}

func TestCommandLine_Usage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr []string // nil: nothing at all on stderr
	}{
		{"UnknownCommand", []string{"frobnicate"}, 2, "", []string{"Usage:", "lanfeedd serve", `unknown command "frobnicate"`}},
		{"NoCommand", nil, 2, "", []string{"Usage:", "lanfeedd tail"}},
		{"Help", []string{"help"}, 0, "Usage:", nil},
		{"DashDashHelp", []string{"--help"}, 0, "lanfeedd version", nil},
		{"ServeHelp", []string{"serve", "--help"}, 0, "Usage: lanfeedd serve [flags]", nil},
		{"ServeDashH", []string{"serve", "-h"}, 0, "-listen address", nil},
		{"TailHelp", []string{"tail", "--help"}, 0, "-since N", nil},
		{"TailHelpAfterURL", []string{"tail", "http://127.0.0.1:1/", "-h"}, 0, "-token token", nil},
		{"ServeBadFlag", []string{"serve", "--port", "1"}, 2, "", []string{"flag provided but not defined: -port", "-listen"}},
		{"TailWithoutURL", []string{"tail"}, 2, "", []string{"tail needs exactly one node URL"}},
		{"AutoFollowWithoutDiscovery", []string{"serve", "--auto-follow", "--no-discovery"}, 2, "",
			[]string{"--auto-follow follows the nodes discovery finds, and --no-discovery turns discovery off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := start(t, tt.args...)
			if code := p.Wait(t, waitFor); code != tt.wantCode {
				t.Errorf("lanfeedd %v exit code = %d; want %d", tt.args, code, tt.wantCode)
			}
			if !strings.Contains(p.Stdout.String(), tt.wantStdout) {
				t.Errorf("lanfeedd %v stdout = %q; want it to contain %q", tt.args, p.Stdout.String(), tt.wantStdout)
			}
			if tt.wantStderr == nil && p.Stderr.String() != "" {
				t.Errorf("lanfeedd %v stderr = %q; want nothing", tt.args, p.Stderr.String())
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(p.Stderr.String(), w) {
					t.Errorf("lanfeedd %v stderr = %q; want it to contain %q", tt.args, p.Stderr.String(), w)
				}
			}
		})
	}
}

// TestCommandLine_Version: `lanfeedd version` (and --version) prints the
// version, commit, build date and Go version: the Makefile's -ldflags
// stamps, or the toolchain's fallbacks when unstamped.
func TestCommandLine_Version(t *testing.T) {
	goLine := "go      " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	t.Run("Unstamped", func(t *testing.T) {
		want := regexp.MustCompile(`^lanfeedd \S+\ncommit  \S.*\n(built   \S+|date    \S+ \(the commit's; the build was not stamped\))\n` + regexp.QuoteMeta(goLine) + `$`)
		for _, arg := range []string{"version", "--version"} {
			p := start(t, arg)
			if code := p.Wait(t, waitFor); code != 0 || !want.MatchString(p.Stdout.String()) || p.Stderr.String() != "" {
				t.Errorf("lanfeedd %s = exit %d, stdout %q, stderr %q; want 0 and stdout matching %s", arg, code, p.Stdout.String(), p.Stderr.String(), want)
			}
		}
	})
	t.Run("Stamped", func(t *testing.T) {
		const pkg = "lanfeed/internal/version"
		bin, err := testproc.BuildWith(t.TempDir(), "-ldflags",
			"-X "+pkg+".Version=v1.2.3-4-gabcdef0-dirty -X "+pkg+".Commit=abcdef0123456789 -X "+pkg+".Date=2026-11-22T09:30:00Z")
		if err != nil {
			t.Fatalf("building a stamped lanfeedd: %v", err)
		}
		p := testproc.Start(t, bin, "version")
		want := "lanfeedd v1.2.3-4-gabcdef0-dirty\ncommit  abcdef0123456789\nbuilt   2026-11-22T09:30:00Z\n" + goLine
		if code := p.Wait(t, waitFor); code != 0 || p.Stdout.String() != want {
			t.Errorf("stamped lanfeedd version = exit %d, stdout\n%s\nwant 0 and\n%s", code, p.Stdout.String(), want)
		}
	})
}

// TestServe_Follow: `serve --follow URL` replicates that node's posts, which
// then show in this node's feed with their origin.
func TestServe_Follow(t *testing.T) {
	b := serve(t, t.TempDir())
	var bInfo info
	b.call(t, "GET", "/api/info", "", nil, http.StatusOK, &bInfo)
	a := serveOn(t, t.TempDir(), "127.0.0.1:0", "--follow", b.url)
	var created wiretest.Post
	b.call(t, "POST", "/api/posts", b.token, map[string]string{"title": "from b"}, http.StatusCreated, &created)
	deadline := time.Now().Add(waitFor)
	for {
		var page struct{ Posts []wiretest.Post }
		a.call(t, "GET", "/api/posts", "", nil, http.StatusOK, &page)
		if len(page.Posts) == 1 && page.Posts[0].ID == created.ID {
			if page.Posts[0].Origin != bInfo.Node.ID {
				t.Fatalf("replica origin = %q; want b's id %q", page.Posts[0].Origin, bInfo.Node.ID)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /api/posts on the follower = %+v after %v; want b's post", page.Posts, waitFor)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var follows struct {
		Follows []struct{ Node, State string }
	}
	a.call(t, "GET", "/api/follows", "", nil, http.StatusOK, &follows)
	if len(follows.Follows) != 1 || follows.Follows[0].Node != bInfo.Node.ID {
		t.Fatalf("GET /api/follows = %+v; want b", follows)
	}
	a.stop(t)
	b.stop(t)
}
