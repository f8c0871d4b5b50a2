//go:build unix

package realtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lanfeed/feed"

	"github.com/gorilla/websocket"
)

// directHub serves a hub over the fuzz service on loopback, with direct
// writes on or off; pings come only when a test asks (askPing).
func directHub(t testing.TB, direct bool, cfg Config) (*Hub, string) {
	t.Helper()
	cfg.Service = &fuzzService{}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if cfg.PingPeriod == 0 {
		cfg.PingPeriod = time.Hour
	}
	h := NewHub(cfg)
	h.noDirect = !direct
	ts := httptest.NewServer(h.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Close(ctx)
		ts.Close()
	})
	return h, "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
}

// onlyPeer returns the hub's one peer once it is registered.
// dialHello connects to url with d, reads the hello and leaves the
// connection with a read deadline wait from now; the test's cleanup
// closes it.
func dialHello(t *testing.T, d *websocket.Dialer, url string, wait time.Duration) *websocket.Conn {
	t.Helper()
	c, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(wait))
	if _, _, err := c.ReadMessage(); err != nil { // hello
		t.Fatal(err)
	}
	return c
}

func onlyPeer(t *testing.T, h *Hub) *peer {
	t.Helper()
	var p *peer
	waitFor(t, "the peer to register", func() bool {
		h.mu.RLock()
		defer h.mu.RUnlock()
		for q := range h.peers {
			p = q
		}
		return p != nil
	})
	return p
}

// waitFor polls cond (bounded: 5 s) until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// writerIdle reports whether p has no writer running, so that the next
// broadcast may be written directly.
func writerIdle(p *peer) bool {
	p.outbox.mu.Lock()
	defer p.outbox.mu.Unlock()
	return !p.outbox.writing
}

// directs counts the frames the flusher wrote to p.
func directs(p *peer) int {
	p.outbox.mu.Lock()
	defer p.outbox.mu.Unlock()
	return p.outbox.directs
}

// flushed waits until the flusher has had its turn with p.
func flushed(t testing.TB, p *peer) {
	t.Helper()
	waitFor(t, "the flusher", func() bool {
		p.outbox.mu.Lock()
		defer p.outbox.mu.Unlock()
		return !p.outbox.listed
	})
}

// askPing does what the ping timer does when it fires.
func askPing(p *peer) {
	p.outbox.mu.Lock()
	defer p.outbox.mu.Unlock()
	p.outbox.pingDue = true
	p.outbox.kick()
}

// postMsg is the broadcast of post seq, its body n bytes long.
func postMsg(seq int64, n int) Message {
	at := feed.UnixMilli(time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC).UnixMilli())
	p := feed.Post{ID: fmt.Sprintf("01a20146-55c4-7d74-ba3f-%012d", seq), Title: fmt.Sprintf("post %d", seq),
		Body: strings.Repeat("b", n), Author: "alice", CreatedAt: at, UpdatedAt: at, Version: 1, Seq: seq}
	return Message{Seq: seq, Frame: feed.EncodePostEvent(feed.ActionCreate, p), Post: p}
}

// teeConn keeps a copy of every byte the client reads: the wire as the
// server sent it.
type teeConn struct {
	net.Conn
	mu  sync.Mutex
	got bytes.Buffer
}

func (c *teeConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.got.Write(b[:n])
	c.mu.Unlock()
	return n, err
}

func (c *teeConn) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.got.Bytes())
}

// wireFrames splits what a server sent after its 101 answer into frames.
func wireFrames(t *testing.T, raw []byte) [][]byte {
	t.Helper()
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatal("no end of the handshake answer in the stream")
	}
	raw = raw[i+4:]
	var frames [][]byte
	for len(raw) > 0 {
		if len(raw) < 2 || raw[1]&0x80 != 0 {
			t.Fatalf("frame header %x: want an unmasked server frame", raw[:min(len(raw), 2)])
		}
		head, n := 2, int(raw[1])
		switch n {
		case 126:
			head, n = 4, int(binary.BigEndian.Uint16(raw[2:]))
		case 127:
			head, n = 10, int(binary.BigEndian.Uint64(raw[2:]))
		}
		if len(raw) < head+n {
			t.Fatalf("a frame of %d bytes cut at %d", head+n, len(raw))
		}
		frames = append(frames, raw[:head+n])
		raw = raw[head+n:]
	}
	return frames
}

// wireScript drives one peer through a post of each length class, an
// ack, a presence event, an error, a ping, a pong and the close, waiting
// for each to arrive before the next, and returns every byte the peer
// received and how many frames the flusher wrote directly.
func wireScript(t *testing.T, direct bool) ([]byte, int) {
	h, u := directHub(t, direct, Config{})
	var tee *teeConn
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			tee = &teeConn{Conn: c}
			c = tee
		}
		return c, err
	}}
	c, _, err := d.Dial(u+"?name=wire", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := onlyPeer(t, h)
	msgs, control := make(chan []byte, 16), make(chan string, 4)
	c.SetPingHandler(func(data string) error {
		control <- "ping"
		return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	c.SetPongHandler(func(data string) error { control <- "pong " + data; return nil })
	readErr := make(chan error, 1)
	go func() {
		for {
			_, m, err := c.ReadMessage()
			if err != nil {
				readErr <- err
				return
			}
			msgs <- m
		}
	}()
	next := func(what string) []byte {
		t.Helper()
		select {
		case m := <-msgs:
			return m
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s within 5 s", what)
			return nil
		}
	}
	nextControl := func(want string) {
		t.Helper()
		select {
		case got := <-control:
			if got != want {
				t.Fatalf("control frame %q; want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s within 5 s", want)
		}
	}
	next("hello")
	step := func(what string, m Message) {
		t.Helper()
		waitFor(t, "the writer to end before "+what, func() bool { return writerIdle(p) })
		h.Broadcast(m)
		if got := next(what); !bytes.Contains(got, []byte(`"seq":`)) && m.Seq > 0 {
			t.Fatalf("%s: got %.60q", what, got)
		}
	}
	step("a short post", postMsg(1, 10))     // 7-bit length
	step("a longer post", postMsg(2, 600))   // 16-bit length
	step("a large post", postMsg(3, 70_000)) // 64-bit length
	ack := postMsg(4, 20)
	ack.By = feed.Caller{Peer: p.id, EmitID: 9} // this peer's own write: its ack
	step("an ack", ack)
	step("a presence event", Message{Presence: true, Frame: feed.EncodePeersEvent(feed.ActionJoin, feed.Peer{ID: "p9", Name: "bob"}, 2)})
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"nonsense"}`))
	if got := next("an error"); !bytes.Contains(got, []byte(`"error"`)) {
		t.Fatalf("error: got %q", got)
	}
	askPing(p)
	nextControl("ping")
	c.WriteControl(websocket.PingMessage, []byte("x"), time.Now().Add(time.Second))
	nextControl("pong x")
	step("a post after the control frames", postMsg(5, 10))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.Close(ctx)
	select {
	case err := <-readErr:
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Fatalf("read after Close: %v; want close 1001", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no close frame within 5 s")
	}
	return tee.bytes(), directs(p)
}

// TestBroadcast_DirectWritesSameBytes: a peer receives exactly the same
// bytes whether Broadcast writes its frames directly or its writer does
// (posts of every length encoding, an ack, presence, an error, a ping, a
// pong, the close), and the direct path was the one taken.
func TestBroadcast_DirectWritesSameBytes(t *testing.T) {
	viaWriter, none := wireScript(t, false)
	direct, directs := wireScript(t, true)
	if none != 0 {
		t.Errorf("with direct writes off, %d frames were written directly; want 0", none)
	}
	if directs != 6 { // every broadcast of the script
		t.Errorf("with direct writes on, %d frames were written directly; want all 6 broadcasts", directs)
	}
	a, b := wireFrames(t, viaWriter), wireFrames(t, direct)
	if len(a) != len(b) {
		t.Fatalf("%d frames through the writer, %d with direct writes; want the same", len(a), len(b))
	}
	// The hello carries the peer's connection time; every later byte must match.
	for i := 1; i < len(a); i++ {
		if !bytes.Equal(a[i], b[i]) {
			t.Errorf("frame %d: direct %.80q; want the writer's %.80q", i, b[i], a[i])
		}
	}
	if len(a) != 11 {
		t.Errorf("%d frames; want 11 (hello, 6 broadcasts, an error, a ping, a pong, the close)", len(a))
	}
}

// TestAppendTextFrame_AsGorillaFramesIt: the bytes the flusher frames
// are those the hub's own upgraded connections write for the same
// message, at each edge of the length encodings.
func TestAppendTextFrame_AsGorillaFramesIt(t *testing.T) {
	h := NewHub(Config{Service: &fuzzService{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	server, _, client, err := h.pipeWebsocket()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	defer client.Close()
	raw := client.UnderlyingConn() // read by hand: the bytes as framed
	for _, n := range []int{0, 1, 125, 126, 127, 4000, 5000, 65535, 65536, 70000} {
		msg := bytes.Repeat([]byte{'a'}, n)
		want := appendTextFrame(nil, msg)
		written := make(chan error, 1)
		go func() { written <- server.WriteMessage(websocket.TextMessage, msg) }() // the pipe has no buffer
		got := make([]byte, len(want))
		raw.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(raw, got); err != nil {
			t.Fatalf("%d bytes: reading the frame: %v", n, err)
		}
		if err := <-written; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("appendTextFrame(%d bytes) starts %x; want the connection's %x", n, want[:min(len(want), 12)], got[:min(len(got), 12)])
		}
	}
}

// TestBroadcast_DirectToEveryIdlePeer: peers that keep up get every post
// straight from the broadcaster, in order, and no writer is started for
// them.
func TestBroadcast_DirectToEveryIdlePeer(t *testing.T) {
	h, u := directHub(t, true, Config{})
	const peers, posts = 3, 20
	var conns []*websocket.Conn
	for i := range peers {
		c := dialHello(t, websocket.DefaultDialer, fmt.Sprintf("%s?presence=0&name=p%d", u, i), 10*time.Second)
		conns = append(conns, c)
	}
	waitFor(t, "every peer's writer to end", func() bool {
		h.mu.RLock()
		defer h.mu.RUnlock()
		if len(h.peers) != peers {
			return false
		}
		for p := range h.peers {
			if !writerIdle(p) {
				return false
			}
		}
		return true
	})
	want := make([][]byte, posts)
	for i := range posts {
		m := postMsg(int64(i+1), 100)
		want[i] = m.Frame
		h.Broadcast(m)
	}
	for i, c := range conns {
		for j := range posts {
			_, got, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("peer %d, post %d: %v", i, j+1, err)
			}
			if !bytes.Equal(got, want[j]) {
				t.Fatalf("peer %d message %d = %.60q; want post %d", i, j+1, got, j+1)
			}
		}
	}
	h.mu.RLock()
	total := 0
	for p := range h.peers {
		total += directs(p)
	}
	h.mu.RUnlock()
	if total != peers*posts {
		t.Errorf("%d of %d deliveries written directly; want all", total, peers*posts)
	}
}

// TestBroadcast_FullSocketFallsBackToOutbox: a peer that stops reading
// gets posts directly until its socket is full, then through its outbox
// and writer, every one in order with none missing; when it stops again
// for longer, the same, and then 1013 once the outbox is over its budget.
func TestBroadcast_FullSocketFallsBackToOutbox(t *testing.T) {
	const queue = 64 << 10
	h, u := directHub(t, true, Config{SendBuffer: 8 << 10, QueueBytes: queue, WriteWait: time.Minute})
	// The client's receive buffer is small too, and set before connecting
	// so that the window it advertises stays small.
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10) }); err != nil {
				return err
			}
			return serr
		}}
		return nd.DialContext(ctx, network, addr)
	}}
	c := dialHello(t, &d, u+"?presence=0", 30*time.Second)
	p := onlyPeer(t, h)
	var seq, read int64 // last broadcast, last read
	readUpTo := func(to int64) {
		t.Helper()
		for read < to {
			_, m, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("after post %d: %v; want post %d", read, err, read+1)
			}
			if want := postMsg(read+1, 1000).Frame; !bytes.Equal(m, want) {
				t.Fatalf("after post %d got %.60q; want post %d", read, m, read+1)
			}
			read++
		}
	}

	// Bounded: the buffers hold far fewer than 200 posts of 1 KiB.
	waitFor(t, "the writer to end after hello", func() bool { return writerIdle(p) })
	for writerIdle(p) && seq < 200 {
		seq++
		h.Broadcast(postMsg(seq, 1000))
		flushed(t, p)
	}
	direct := directs(p)
	if writerIdle(p) || direct == 0 {
		t.Fatalf("%d posts to a peer that does not read: %d written directly, writer idle %v; want a writer for the rest", seq, direct, writerIdle(p))
	}
	for range 10 { // behind the writer, in the outbox
		seq++
		h.Broadcast(postMsg(seq, 1000))
	}
	if got := directs(p); got != direct {
		t.Fatalf("%d posts written directly while the writer runs; want none", got-direct)
	}
	readUpTo(seq)
	t.Logf("phase 1: %d posts, %d written directly, the rest by the writer", seq, direct)

	// Stop reading for good: direct writes again, then the outbox, then 1013.
	waitFor(t, "the writer to end once the peer caught up", func() bool { return writerIdle(p) })
	closing := func() bool {
		p.outbox.mu.Lock()
		defer p.outbox.mu.Unlock()
		return p.outbox.closing != nil
	}
	for start := seq; !closing() && seq < start+1000; {
		seq++
		h.Broadcast(postMsg(seq, 1000))
		flushed(t, p)
	}
	if !closing() {
		t.Fatalf("posts up to %d to a peer that does not read did not overflow its 64 KiB outbox", seq)
	}
	if directs(p) == direct {
		t.Error("no post written directly once the writer had ended")
	}
	for {
		_, m, err := c.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, CloseTryAgainLater) {
				t.Fatalf("after post %d: %v; want close 1013", read, err)
			}
			break
		}
		if want := postMsg(read+1, 1000).Frame; !bytes.Equal(m, want) {
			t.Fatalf("after post %d got %.60q; want post %d", read, m, read+1)
		}
		read++
	}
	if read >= seq {
		t.Errorf("read every post up to %d; want the ones dropped at the overflow missing before 1013", seq)
	}
	t.Logf("phase 2: posts up to %d, read up to %d, then 1013", seq, read)
}

// TestPeerConn_DirectWriteOwesTheRest: a direct write that the socket
// takes only in part leaves the rest for flushOwed, which sends it before
// anything written later, and refuses direct writes meanwhile; after a
// close frame no direct write happens.
func TestPeerConn_DirectWriteOwesTheRest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := <-accepted
	defer server.Close()
	server.(*net.TCPConn).SetWriteBuffer(4 << 10)
	client.(*net.TCPConn).SetReadBuffer(4 << 10)
	c := newPeerConn(server)
	if c.raw == nil {
		t.Fatal("no raw socket for a TCP connection")
	}

	// One frame larger than both buffers: the socket takes only part of it.
	frame := make([]byte, 64<<10)
	for i := range frame {
		frame[i] = byte(i % 251)
	}
	if r := c.writeDirect(frame); r != directOwed {
		t.Fatalf("writeDirect(64 KiB) into 4 KiB buffers = %v; want owed", r)
	}
	if r := c.writeDirect([]byte("more")); r != directRefused {
		t.Fatalf("writeDirect with bytes owed = %v; want refused", r)
	}
	received := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(bufio.NewReader(client))
		received <- b
	}()
	if err := c.flushOwed(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// A later frame (here the close) goes after what was owed, and no
	// direct write follows a close frame.
	closeFrame := []byte{finalBit | websocket.CloseMessage, 2, 0x03, 0xe8}
	if _, err := c.Write(closeFrame); err != nil {
		t.Fatal(err)
	}
	if r := c.writeDirect([]byte("after the close")); r != directRefused {
		t.Errorf("writeDirect after a close frame = %v; want refused", r)
	}
	server.Close()
	if got, want := <-received, append(frame, closeFrame...); !bytes.Equal(got, want) {
		t.Errorf("received %d bytes; want the frame's %d then the close frame, in order", len(got), len(want))
	}
}
