package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"testing"
	"time"

	"lanfeed/realtime"

	"github.com/gorilla/websocket"
)

// Cases read from the two specifications' text, beside the ones of
// sio_test.go: each names the section it checks, "EIO" for the Engine.IO
// protocol 4 (socketio/engine.io-protocol, README.md) and "SIO" for the
// Socket.IO protocol 5 (socketio/socket.io-protocol, Readme.md).

// shortBeat is a heartbeat short enough for tests: pingInterval 100 ms,
// pingTimeout 300 ms.
var shortBeat = realtime.Config{PingPeriod: 100 * time.Millisecond, PongWait: 400 * time.Millisecond}

// sessionEnds GETs until the session is over: a close packet, then 400
// for the sid (EIO "Receiving data": an unknown sid gets 400). Every GET
// is answered within pingInterval, by a ping at the latest.
func (c *pollClient) sessionEnds(within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		status, body := c.get()
		if status == http.StatusBadRequest {
			return
		}
		if status != http.StatusOK {
			c.t.Fatalf("GET = %d %q; want 200 or 400", status, body)
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the session is still open after %v (last GET: %q); want it closed", within, body)
		}
	}
}

// EIO "Handshake": the open packet of a polling session carries the five
// keys, the websocket upgrade, and the heartbeat the node runs.
func TestEIO_Handshake_Polling(t *testing.T) {
	n := startNode(t, shortBeat)
	resp, err := http.Get(n.pollURL(""))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var open map[string]any
	if resp.StatusCode != http.StatusOK || body[0] != '0' || json.Unmarshal(body[1:], &open) != nil {
		t.Fatalf("GET = %d %q; want 200 and an open packet", resp.StatusCode, body)
	}
	if len(open) != 5 || open["sid"] == "" || open["pingInterval"] != 100.0 || open["pingTimeout"] != 300.0 ||
		open["maxPayload"] != float64(realtime.DefaultMaxMessage) || len(open["upgrades"].([]any)) != 1 || open["upgrades"].([]any)[0] != "websocket" {
		t.Errorf("open = %v; want sid, upgrades [websocket], pingInterval 100, pingTimeout 300, maxPayload %d", open, realtime.DefaultMaxMessage)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q; want text/plain (EIO \"Headers\": plain text without octet-stream)", ct)
	}
}

// EIO "WebSocket": a handshake missing a mandatory query parameter (or of
// another protocol version) gets no websocket; EIO "Sending data": a POST
// for an unknown sid gets 400.
func TestEIO_MandatoryParameters(t *testing.T) {
	n := startNode(t, realtime.Config{})
	base := "ws" + strings.TrimPrefix(n.ts.URL, "http") + realtime.SocketIOPath
	for _, q := range []string{"?transport=websocket", "?EIO=3&transport=websocket", "?EIO=4", "?EIO=4&transport=abc"} {
		conn, resp, err := (&websocket.Dialer{}).Dial(base+q, nil)
		if err == nil {
			conn.Close()
			t.Errorf("websocket %s: upgraded; want refused", q)
		} else if resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("websocket %s: %v; want 400", q, err)
		}
	}
	c := &pollClient{t: t, n: n, sid: "no-such-session"}
	if status, _ := c.post("40"); status != http.StatusBadRequest {
		t.Errorf("POST with an unknown sid = %d; want 400", status)
	}
}

// EIO "Receiving data": a second active GET gets 400 and closes the
// session; the first hears the close.
func TestEIO_OverlappingGET(t *testing.T) {
	n := startNode(t, realtime.Config{PingPeriod: 5 * time.Second, PongWait: 10 * time.Second})
	c := n.pollOpen(t)
	type answer struct {
		status int
		body   string
	}
	answers := make(chan answer, 2)
	for range 2 { // nothing is queued: each waits for a packet, so they overlap
		go func() {
			resp, err := (&http.Client{Timeout: readWait}).Get(n.pollURL(c.sid))
			if err != nil {
				answers <- answer{}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answers <- answer{resp.StatusCode, string(b)}
		}()
	}
	a, b := <-answers, <-answers
	if a.status == http.StatusOK {
		a, b = b, a
	}
	if a.status != http.StatusBadRequest || b.status != http.StatusOK || b.body != "1" {
		t.Errorf("two GETs at once = %d and %d %q; want one 400 and the other a close packet (1)", a.status, b.status, b.body)
	}
	c.sessionEnds(readWait)
}

// EIO "Sending data": a second active POST gets 400 and closes the session.
func TestEIO_OverlappingPOST(t *testing.T) {
	n := startNode(t, realtime.Config{PingPeriod: 5 * time.Second, PongWait: 10 * time.Second})
	c := n.pollOpen(t)
	body, feed := io.Pipe()
	first := make(chan struct{})
	go func() {
		defer close(first)
		req, _ := http.NewRequest(http.MethodPost, n.pollURL(c.sid), body)
		if resp, err := (&http.Client{Timeout: readWait}).Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	feed.Write([]byte("6")) // a noop: the first POST is under way, its body unfinished
	// Until the first POST's handler runs, a second one may pass: noops, harmless.
	deadline := time.Now().Add(readWait)
	for {
		status, _ := c.post("6")
		if status == http.StatusBadRequest {
			break
		}
		if status != http.StatusOK || time.Now().After(deadline) {
			t.Fatalf("a second POST while one is active = %d; want 400", status)
		}
	}
	feed.Close()
	<-first
	c.sessionEnds(readWait)
}

// EIO "Heartbeat", over polling: each GET brings a ping within
// pingInterval; pongs keep the session past pingInterval + pingTimeout;
// without them the server considers the connection closed.
func TestEIO_Heartbeat_Polling(t *testing.T) {
	n := startNode(t, shortBeat)
	c := n.pollOpen(t)
	start := time.Now()
	for range 6 { // 6 pings: past pingInterval + pingTimeout
		if status, body := c.get(); status != http.StatusOK || body != "2" {
			t.Fatalf("GET = %d %q; want a ping", status, body)
		}
		if status, _ := c.post("3"); status != http.StatusOK {
			t.Fatalf("POST 3 = %d; want 200", status)
		}
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("6 pings in %v; want one per pingInterval (100 ms)", d)
	}
	// Pings unanswered: closed after about pingInterval + pingTimeout.
	c.sessionEnds(3 * time.Second)
}

// EIO "Packet encoding" (HTTP long-polling): packets of one payload are
// separated by \x1e, both ways. The Engine.IO echo of conformance mode
// sends back each message packet of a POST, so every payload the GETs
// return is framed by the server.
func TestEIO_PayloadFraming(t *testing.T) {
	n := startNode(t, realtime.Config{SocketIOConformance: true, PingPeriod: 5 * time.Second, PongWait: 10 * time.Second})
	c := &pollClient{t: t, n: n}
	get := func() (int, string) {
		resp, err := (&http.Client{Timeout: readWait}).Get(n.ts.URL + realtime.EngineIOPath + "?EIO=4&transport=polling&sid=" + c.sid)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, open := get()
	var o struct{ Sid string }
	json.Unmarshal([]byte(open[1:]), &o)
	c.sid = o.Sid
	resp, err := http.Post(n.ts.URL+realtime.EngineIOPath+"?EIO=4&transport=polling&sid="+c.sid, "text/plain", strings.NewReader("4a\x1e4é\x1e4\x1e4{\"c\":1}"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST of four packets: %v %v; want 200", err, resp)
	}
	resp.Body.Close()
	var got []string
	for len(got) < 4 {
		status, body := get()
		if status != http.StatusOK || body == "" || strings.HasPrefix(body, "\x1e") || strings.HasSuffix(body, "\x1e") || strings.Contains(body, "\x1e\x1e") {
			t.Fatalf("GET = %d %q; want 200 and packets separated by one \\x1e each", status, body)
		}
		got = append(got, strings.Split(body, "\x1e")...)
	}
	if want := []string{"4a", "4é", "4", `4{"c":1}`}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("echoed packets = %q; want %q, in order", got, want)
	}
}

// maxPayload (EIO "Handshake"): a POST over it is refused and ends the session.
func TestEIO_PayloadOverMax(t *testing.T) {
	n := startNode(t, realtime.Config{MaxMessage: 1000, PingPeriod: 5 * time.Second, PongWait: 10 * time.Second})
	c := n.pollOpen(t)
	if status, _ := c.post("4" + strings.Repeat("x", 1000)); status != http.StatusRequestEntityTooLarge {
		t.Errorf("POST of 1001 bytes over maxPayload 1000 = %d; want 413", status)
	}
	c.sessionEnds(readWait)
}

// EIO "Upgrade" and "WebSocket": one websocket per session, so a second
// one is closed; the upgraded session refuses polling requests; a
// websocket whose first packet is not the probe upgrades nothing and the
// session goes on polling.
func TestEIO_UpgradeRules(t *testing.T) {
	n := startNode(t, realtime.Config{PingPeriod: 5 * time.Second, PongWait: 10 * time.Second})
	c := n.pollOpen(t)
	c.post("40")
	c.packets(3)

	bad, _, err := (&websocket.Dialer{}).Dial(n.sioURL("&sid="+c.sid), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer bad.Close()
	(&sioClient{t: t, conn: bad}).send("4hello")
	(&sioClient{t: t, conn: bad}).closed()
	p := n.create(t, "still polling", "")
	// the session's own join may come first (presence is published after
	// the peer registers, in no set order with what follows)
	got := c.packets(1)
	if len(got) == 1 && strings.HasPrefix(got[0], `42["peers"`) {
		got = append(got, c.packets(1)...)
	}
	if !slices.ContainsFunc(got, func(f string) bool { return strings.Contains(f, p.ID) }) {
		t.Errorf("after a websocket without probe the GETs got %q; want the posts event", got)
	}

	w := c.upgradeDial()
	w.send("5")
	second, _, err := (&websocket.Dialer{}).Dial(n.sioURL("&sid="+c.sid), nil)
	if err == nil {
		defer second.Close()
		s := &sioClient{t: t, conn: second}
		s.send("2probe")
		s.closed()
	}
	// read-only: the answer proves the websocket carries the session, and
	// since it follows the upgrade packet on the same connection, that the
	// upgrade is done before the POST below (sending "5" alone returns
	// before the node has read it)
	w.send(`421["posts:create",{"title":"x"}]`)
	if f := w.readSkipping(); !strings.HasPrefix(f, `431[{"error":{"code":"unauthorized"`) {
		t.Errorf("over the upgraded websocket got %q; want the ack", f)
	}
	if status, _ := c.post(`421["posts:create",{"title":"x"}]`); status != http.StatusBadRequest {
		t.Errorf("POST after the upgrade = %d; want 400", status)
	}
}

// EIO "Protocol" (close: the transport can be closed), over polling: a
// close packet POSTed while a GET waits ends the session; the GET is
// answered with a noop (what the official suite expects), then the sid is
// gone.
func TestEIO_Close_Polling(t *testing.T) {
	n := startNode(t, realtime.Config{PingPeriod: 5 * time.Second, PongWait: 10 * time.Second})
	c := n.pollOpen(t)
	pending, sent := make(chan string, 1), make(chan struct{})
	go func() {
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(sent) }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, n.pollURL(c.sid), nil)
		resp, err := (&http.Client{Timeout: readWait}).Do(req)
		if err != nil {
			pending <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		pending <- fmt.Sprint(resp.StatusCode, " ", string(b))
	}()
	<-sent // the GET is on its way; it may still reach the node after the POST
	if status, _ := c.post("1"); status != http.StatusOK {
		t.Errorf("POST 1 = %d; want 200", status)
	}
	select {
	case got := <-pending:
		if got != "200 6" && got != "200 1" && !strings.HasPrefix(got, "400 ") {
			t.Errorf("the waiting GET = %q; want noop (6) or close (1), or 400 if it came after the close", got)
		}
	case <-time.After(readWait):
		t.Fatal("the waiting GET was not answered after the close packet")
	}
	c.sessionEnds(readWait)
}

// SIO "Connection to a namespace": a transport that sends no CONNECT is
// closed (after connectTimeout: 1 s in conformance mode, 45 s on a node).
func TestSIO_ConnectTimeout(t *testing.T) {
	n := startNode(t, realtime.Config{SocketIOConformance: true, PingPeriod: 100 * time.Millisecond, PongWait: 2 * time.Second})
	c := n.sioDial(t)
	start := time.Now()
	c.conn.SetReadDeadline(time.Now().Add(readWait))
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			break
		}
		if string(data) == "2" {
			c.send("3") // the heartbeat alone does not keep it
		}
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 5*time.Second {
		t.Errorf("closed after %v; want about connectTimeout (1 s)", d)
	}
}

// SIO "Disconnection from a namespace": the client's DISCONNECT of the main
// namespace, the only one a lanfeed socket joins, ends the connection.
func TestSIO_DisconnectFromClient(t *testing.T) {
	n := startNode(t, realtime.Config{})
	c := n.sioDial(t)
	c.connect("")
	c.send("41")
	c.closed()
	waitFor(t, "the socket to leave the hub", func() bool { return n.srv.Hub.Count() == 0 })
}

// SIO "Sending and receiving data" and "Packet encoding", over polling:
// an EVENT whose payload is not a non-empty array closes the connection,
// and so does an ACK whose payload is not an array ("MUST be an array").
func TestSIO_InvalidPackets_Polling(t *testing.T) {
	n := startNode(t, realtime.Config{PingPeriod: 5 * time.Second, PongWait: 10 * time.Second})
	for _, bad := range []string{`42{"a":1}`, `42[]`, `421{}`, `431{}`, `42["x"`} {
		t.Run(bad, func(t *testing.T) {
			c := n.pollOpen(t)
			c.post("40")
			c.packets(3)
			c.post(bad) // 200 or 400: the payload is valid Engine.IO, the packet not Socket.IO
			c.sessionEnds(readWait)
		})
	}
}

// The Engine.IO echo server is conformance mode's only: a node does not
// serve /engine.io/, and in conformance mode a websocket there echoes
// (EIO "Message").
func TestEIO_EchoOnlyInConformanceMode(t *testing.T) {
	n := startNode(t, realtime.Config{})
	resp, err := http.Get(n.ts.URL + realtime.EngineIOPath + "?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s on a node = %d; want 404", realtime.EngineIOPath, resp.StatusCode)
	}
	conf := startNode(t, realtime.Config{SocketIOConformance: true})
	url := "ws" + strings.TrimPrefix(conf.ts.URL, "http") + realtime.EngineIOPath + "?EIO=4&transport=websocket"
	conn, _, err := (&websocket.Dialer{}).Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer conn.Close()
	c := &sioClient{t: t, conn: conn}
	if f := c.read(); !strings.HasPrefix(f, `0{"sid":`) {
		t.Fatalf("first packet = %q; want the open packet", f)
	}
	c.send("4hello") // no Socket.IO CONNECT first: this is Engine.IO alone
	if f := c.readSkipping(); f != "4hello" {
		t.Errorf("echo = %q; want 4hello", f)
	}
}
